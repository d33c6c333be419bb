package dev.basalt.api.fleet;

import java.util.regex.Pattern;

/** Checks of the manifest digests the fleet protocol pins images by. */
final class Digests {
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  private Digests() {}

  static String check(String field, String digest) {
    if (digest != null && !DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException(field + " must be sha256:<64 lowercase hex digits>, got '" + digest + "'");
    }
    return digest;
  }
}
