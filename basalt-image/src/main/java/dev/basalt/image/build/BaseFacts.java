package dev.basalt.image.build;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the customization layer needs from the merged base: the account files (users are appended to them) and
 * each directory's metadata (a parent directory the layer must carry keeps the base's owner and mode).
 */
record BaseFacts(Map<String, byte[]> accountFiles, Map<String, Metadata> directories) {
  static final Set<String> ACCOUNT_FILES = Set.of("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow");

  /** Collects facts from a merged tree. */
  static final class Collector implements TreeSink {
    final Map<String, byte[]> files = new HashMap<>();
    final Map<String, Metadata> dirs = new HashMap<>();

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      if (entry instanceof TreeEntry.Directory d) {
        // Kept as the cache file keeps it, so a cold and a cached build write the same parents.
        Metadata m = d.metadata();
        dirs.put(d.path(), Metadata.of(m.permissions(), m.uid(), m.gid(), m.mtimeSeconds()));
      }
      else if (entry instanceof TreeEntry.RegularFile f && ACCOUNT_FILES.contains(f.path())) files.put(f.path(), content.readAllBytes());
    }

    @Override
    public void finish() {}

    BaseFacts facts() { return new BaseFacts(Map.copyOf(files), Map.copyOf(dirs)); }
  }

  byte[] toJson(ObjectMapper json) {
    ObjectNode root = json.createObjectNode();
    ObjectNode f = root.putObject("files");
    new java.util.TreeMap<>(accountFiles).forEach((k, v) -> f.put(k, Base64.getEncoder().encodeToString(v)));
    ObjectNode d = root.putObject("dirs");
    new java.util.TreeMap<>(directories).forEach((k, m) -> d.putArray(k).add(m.permissions()).add(m.uid()).add(m.gid())
        .add(m.mtimeSeconds()));
    return json.writeValueAsBytes(root);
  }

  static BaseFacts fromJson(ObjectMapper json, byte[] bytes) {
    JsonNode root = json.readTree(bytes);
    Map<String, byte[]> files = new HashMap<>();
    for (var e : root.get("files").properties()) files.put(e.getKey(), Base64.getDecoder().decode(e.getValue().asString()));
    Map<String, Metadata> dirs = new HashMap<>();
    for (var e : root.get("dirs").properties()) {
      JsonNode a = e.getValue();
      dirs.put(e.getKey(), Metadata.of(a.get(0).asInt(), a.get(1).asLong(), a.get(2).asLong(), a.get(3).asLong()));
    }
    return new BaseFacts(files, dirs);
  }
}
