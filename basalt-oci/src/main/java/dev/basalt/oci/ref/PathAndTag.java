package dev.basalt.oci.ref;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** {@code PATH[:tag]} split at the first colon, like containers/image does for oci: references. */
record PathAndTag(Path path, String tag) {
  // containers/image's refRegexp for OCI layout image names.
  private static final Pattern OCI_TAG = Pattern.compile("[a-zA-Z0-9._-]+(?:[/:@][a-zA-Z0-9._-]+)*");

  static PathAndTag split(String input, String rest) {
    int colon = rest.indexOf(':');
    String path = colon < 0 ? rest : rest.substring(0, colon);
    String tag = colon < 0 ? null : rest.substring(colon + 1);
    if (path.isEmpty()) throw new IllegalArgumentException("invalid image reference '" + input + "': empty path");
    if (tag != null && !OCI_TAG.matcher(tag).matches()) {
      throw new IllegalArgumentException("invalid image reference '" + input + "': invalid tag '" + tag + "'");
    }
    try {
      return new PathAndTag(Path.of(path), tag);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("invalid image reference '" + input + "': bad path: " + e.getMessage());
    }
  }
}
