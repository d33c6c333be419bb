package dev.basalt.node;

/**
 * What {@code upgrade --check} found: only the reference resolved, nothing downloaded.
 *
 * @param ref the reference
 * @param manifestDigest what it points at now
 * @param bootedDigest the booted deployment's digest (null when unknown)
 * @param stagedDigest the staged deployment's digest (null when none)
 * @param failedBefore whether this digest failed to boot here before (an update would refuse it unless forced)
 */
public record CheckResult(String ref, String manifestDigest, String bootedDigest, String stagedDigest,
    boolean failedBefore) {
  /** Whether an update would stage something new. */
  public boolean updateAvailable() {
    return !manifestDigest.equals(bootedDigest) && !manifestDigest.equals(stagedDigest) && !failedBefore;
  }
}
