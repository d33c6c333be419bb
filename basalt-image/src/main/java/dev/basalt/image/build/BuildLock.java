package dev.basalt.image.build;

import dev.basalt.oci.api.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code os.lock.yaml}: each image reference of a spec ({@code base}, {@code layers}) pinned to a manifest digest.
 * <pre>
 * pins:
 *   "docker://registry.example/os/base:12": "sha256:..."
 * </pre>
 */
public record BuildLock(Map<String, Digest> pins) {
  public BuildLock {
    pins = Map.copyOf(pins);
  }

  public static final BuildLock EMPTY = new BuildLock(Map.of());

  /** The lock beside a spec: {@code os.yaml} → {@code os.lock.yaml}. */
  public static Path besideSpec(Path spec) {
    String n = spec.getFileName().toString();
    String stem = n.endsWith(".yaml") ? n.substring(0, n.length() - 5) : n.endsWith(".yml") ? n.substring(0, n.length() - 4) : n;
    return spec.toAbsolutePath().resolveSibling(stem + ".lock.yaml");
  }

  /** Reads a lock; a missing file is the empty lock. */
  public static BuildLock read(Path file) throws IOException {
    if (!Files.exists(file)) return EMPTY;
    SpecNode root = SpecNode.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    Map<String, SpecNode> m = root.map("the lock file", Set.of("pins"));
    Map<String, Digest> pins = new TreeMap<>();
    if (m.containsKey("pins")) {
      @SuppressWarnings("unchecked")
      Map<String, SpecNode> raw = m.get("pins").isMap() ? (Map<String, SpecNode>) m.get("pins").value() : null;
      if (raw == null) throw m.get("pins").error("pins must be a mapping of image reference to digest");
      for (var e : raw.entrySet()) {
        String d = e.getValue().string("pin of " + e.getKey());
        try {
          pins.put(e.getKey(), Digest.parse(d));
        } catch (IllegalArgumentException ex) {
          throw e.getValue().error("pin of " + e.getKey() + " is not a digest: " + ex.getMessage());
        }
      }
    }
    return new BuildLock(pins);
  }

  /** Writes the lock atomically, sorted, so it diffs well. */
  public void write(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("# Written by basalt image build; refresh with --update-lock.\npins:\n");
    new TreeMap<>(pins).forEach((k, v) -> sb.append("  \"").append(k.replace("\\", "\\\\").replace("\"", "\\\""))
        .append("\": \"").append(v).append("\"\n"));
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, sb, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
