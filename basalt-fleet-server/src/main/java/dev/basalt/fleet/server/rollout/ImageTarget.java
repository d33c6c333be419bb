package dev.basalt.fleet.server.rollout;

import java.util.regex.Pattern;

/**
 * An image a rollout moves devices to or back to, pinned by digest.
 *
 * @param imageRef the reference devices pull ({@code docker://host/repo:tag}); informational, the digest decides
 * @param digest the manifest digest, {@code sha256:<64 hex>}
 */
public record ImageTarget(String imageRef, String digest) {
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  public ImageTarget {
    if (imageRef == null || imageRef.isBlank()) throw new IllegalArgumentException("imageRef must not be blank");
    if (digest == null || !DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("digest of " + imageRef + " must be sha256:<64 lowercase hex digits>, got " + digest);
    }
  }
}
