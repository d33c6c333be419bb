package dev.basalt.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where the node's update path (ARCHITECTURE.md §7) is; persisted, so a crash shows the step it died in. */
public enum UpdatePhase {
  /** No update running; the last one (if any) finished. */
  @JsonProperty("idle") IDLE,
  /** Resolving the reference and pinning the manifest digest. */
  @JsonProperty("resolving") RESOLVING,
  /** Fetching missing layer blobs into the cache. */
  @JsonProperty("downloading") DOWNLOADING,
  /** Merging the layers into the EROFS of the inactive root slot. */
  @JsonProperty("writing-root") WRITING_ROOT,
  /** Computing the dm-verity tree into the inactive verity partition. */
  @JsonProperty("writing-verity") WRITING_VERITY,
  /** Copying kernel and initramfs to the ESP. */
  @JsonProperty("installing-boot-files") INSTALLING_BOOT_FILES,
  /** Writing the counted boot entry (the commit point). */
  @JsonProperty("writing-entry") WRITING_ENTRY,
  /** A deployment is staged and boots next. */
  @JsonProperty("staged") STAGED,
  /** The last update failed or was interrupted; see {@code lastError}. */
  @JsonProperty("failed") FAILED;

  /** Whether an update is under way in this phase (a crash here leaves it interrupted). */
  public boolean inProgress() {
    return this != IDLE && this != STAGED && this != FAILED;
  }
}
