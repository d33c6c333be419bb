package dev.basalt.cli;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.image.disk.TreeProducer;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.TreeMap;

/**
 * The node layer `basalt disk` adds. INTERIM until dev.basalt.image.node.NodeLayer (wip/boot)
 * lands: the same resource files and enablement links, root-owned, mtime 0, sorted.
 */
final class NodeLayers {
  private NodeLayers() {}

  private static final String RESOURCES = "/dev/basalt/image/node/";
  private static final List<String> FILES = List.of(
      "0755 usr/lib/basalt/preinit", "0644 usr/lib/basalt/lib.sh", "0755 usr/lib/basalt/health",
      "0755 usr/lib/basalt/health-failed", "0755 usr/lib/basalt/bless",
      "0755 usr/lib/basalt/health.d/required.d/00-preinit", "0755 usr/lib/basalt/health.d/required.d/10-mounts",
      "0755 usr/lib/basalt/health.d/wanted.d/50-no-failed-units",
      "0644 usr/lib/systemd/system/basalt-health.service", "0644 usr/lib/systemd/system/basalt-health-failed.service",
      "0644 usr/lib/systemd/system/basalt-bless.service", "0644 usr/lib/systemd/system.conf.d/50-basalt-watchdog.conf");
  private static final List<String> LINKS = List.of(
      "usr/lib/systemd/system/multi-user.target.wants/basalt-health.service ../basalt-health.service",
      "usr/lib/systemd/system/multi-user.target.wants/basalt-bless.service ../basalt-bless.service",
      "usr/lib/systemd/system/boot-complete.target.requires/basalt-health.service ../basalt-health.service");

  static TreeProducer standard() {
    return sink -> {
      TreeMap<String, String[]> items = new TreeMap<>();
      for (String f : FILES) items.put(f.split(" ")[1], new String[] {"f", f.split(" ")[0]});
      for (String l : LINKS) items.put(l.split(" ")[0], new String[] {"l", l.split(" ")[1]});
      for (String p : List.copyOf(items.keySet())) {
        for (String d = TreePaths.parent(p); !d.isEmpty(); d = TreePaths.parent(d)) items.putIfAbsent(d, new String[] {"d"});
      }
      for (var e : items.entrySet()) {
        String path = e.getKey();
        String[] v = e.getValue();
        switch (v[0]) {
          case "d" -> sink.add(new TreeEntry.Directory(path, Metadata.of(0755, 0, 0, 0)), null);
          case "l" -> sink.add(new TreeEntry.Symlink(path, Metadata.of(0777, 0, 0, 0), v[1]), null);
          default -> {
            byte[] b;
            try (InputStream in = NodeLayers.class.getResourceAsStream(RESOURCES + path)) {
              if (in == null) throw new IOException("node layer resource missing: " + RESOURCES + path);
              b = in.readAllBytes();
            }
            sink.add(new TreeEntry.RegularFile(path, Metadata.of(Integer.parseInt(v[1], 8), 0, 0, 0), b.length),
                new java.io.ByteArrayInputStream(b));
          }
        }
      }
    };
  }
}
