package dev.basalt.fs.tree;

/** Validation and splitting of normalized tree paths. */
public final class TreePaths {
  private TreePaths() {}

  /** Maximum length in UTF-8 bytes of one path component (Linux NAME_MAX). */
  public static final int NAME_MAX = 255;

  public static String requireValid(String path) {
    if (path == null) throw new IllegalArgumentException("null path");
    if (path.isEmpty()) return path;
    if (path.startsWith("/") || path.endsWith("/")) {
      throw new IllegalArgumentException("path must be relative without trailing '/': " + path);
    }
    for (String c : path.split("/", -1)) {
      if (c.isEmpty() || c.equals(".") || c.equals("..")) {
        throw new IllegalArgumentException("path is not normalized: " + path);
      }
      if (c.indexOf('\0') >= 0) throw new IllegalArgumentException("path contains NUL: " + path);
    }
    return path;
  }

  public static String requireNonRoot(String path) {
    requireValid(path);
    if (path.isEmpty()) throw new IllegalArgumentException("the root can only be a directory");
    return path;
  }

  /** Parent path; the parent of a top-level name is {@code ""}. */
  public static String parent(String path) {
    int i = path.lastIndexOf('/');
    return i < 0 ? "" : path.substring(0, i);
  }

  public static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /**
   * Normalizes a path as found in a tar header or a user argument: strips leading "/" and "./",
   * collapses "." and empty components. Returns {@code null} when any component is ".." (a layer
   * or archive that names a parent is refused, never resolved).
   */
  public static String normalize(String raw) {
    StringBuilder out = new StringBuilder();
    java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
    for (String c : raw.split("/")) {
      if (c.isEmpty() || c.equals(".")) continue;
      if (c.equals("..")) return null;
      parts.addLast(c);
    }
    for (String p : parts) {
      if (out.length() > 0) out.append('/');
      out.append(p);
    }
    return out.toString();
  }
}
