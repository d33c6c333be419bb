package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One image deployed into one root slot.
 *
 * @param imageRef the reference it was deployed from ({@code docker://host/repo:tag}); null when unknown
 *     (a slot written by another tool)
 * @param manifestDigest the pinned manifest digest ({@code sha256:<64 hex>}); null when unknown
 * @param verityRootHash the dm-verity root hash of the slot (64 hex digits); null when unknown
 * @param slot {@code "a"} or {@code "b"}
 * @param serial the deploy serial of its boot entry ({@code basalt-<serial 8 digits>-<slot>.conf}), 1 to 99999999
 * @param deployedAt when it was written; null when unknown
 * @param health what is known of its health
 */
public record Deployment(String imageRef, String manifestDigest, String verityRootHash, String slot, int serial,
    Instant deployedAt, Health health) {
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final Pattern ROOT_HASH = Pattern.compile("[0-9a-f]{64}");

  /** Largest serial that fits the 8 digits of an entry name. */
  public static final int MAX_SERIAL = 99_999_999;

  public Deployment {
    if (!"a".equals(slot) && !"b".equals(slot)) throw new IllegalArgumentException("slot must be \"a\" or \"b\", got " + slot);
    if (serial < 1 || serial > MAX_SERIAL) throw new IllegalArgumentException("serial must be 1.." + MAX_SERIAL + ", got " + serial);
    if (manifestDigest != null && !DIGEST.matcher(manifestDigest).matches()) {
      throw new IllegalArgumentException("manifestDigest must be sha256:<64 hex digits>, got " + manifestDigest);
    }
    if (verityRootHash != null && !ROOT_HASH.matcher(verityRootHash).matches()) {
      throw new IllegalArgumentException("verityRootHash must be 64 lowercase hex digits, got " + verityRootHash);
    }
    Objects.requireNonNull(health, "health");
  }

  public Deployment withHealth(Health h) {
    return new Deployment(imageRef, manifestDigest, verityRootHash, slot, serial, deployedAt, h);
  }

  public Deployment withSerial(int s) {
    return new Deployment(imageRef, manifestDigest, verityRootHash, slot, s, deployedAt, health);
  }
}
