package dev.basalt.image.disk;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Puts the node layer on top of an image's tree in one pass, unless the image brings its own
 * (it has {@code /usr/lib/basalt/preinit}). Whether it does is only known at the end of the
 * stream, so image entries at the layer's non-directory paths that sort before its preinit are held
 * back (they are few and small) and either replayed (the image's own layer wins) or dropped for the
 * layer's. Directories
 * both define keep the image's metadata.
 */
final class NodeOverlay implements TreeSink {
  static final String PREINIT = "usr/lib/basalt/preinit";
  private static final long HELD_MAX = 64L << 20;

  private final TreeSink down;
  private final TreeProducer layer;
  private final Map<String, TreeEntry> layerEntries = new HashMap<>();
  private final Map<String, Held> held = new LinkedHashMap<>();
  private final Set<String> imageDirs = new HashSet<>();
  private long heldBytes;
  private boolean imageHasPreinit;
  private boolean added;

  private record Held(TreeEntry entry, byte[] content) {}

  NodeOverlay(TreeSink down, TreeProducer layer) throws IOException {
    this.down = down;
    this.layer = layer;
    layer.writeTo(new TreeSink() {
      @Override
      public void add(TreeEntry entry, InputStream content) throws IOException {
        if (content != null) content.transferTo(OutputStream.nullOutputStream());
        if (layerEntries.put(entry.path(), entry) != null) throw new TreeException(entry.path(), "node layer defines it twice");
      }

      @Override
      public void finish() {}
    });
    if (!(layerEntries.get(PREINIT) instanceof TreeEntry.RegularFile)) {
      throw new IOException("the node layer has no /" + PREINIT);
    }
  }

  /** Whether the node layer was added (false: the image had its own); valid after {@link #finish()}. */
  boolean added() { return added; }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    String path = entry.path();
    if (path.equals(PREINIT) && !imageHasPreinit) {
      // The image brings its own node layer: what was held is the image's and goes down now, and the rest
      // (the runtime sorts after preinit and can be far larger than what may be held) streams straight through.
      imageHasPreinit = true;
      for (Held h : held.values()) replay(h.entry, h.content);
      held.clear();
      heldBytes = 0;
    }
    if (imageHasPreinit) {
      down.add(entry, content);
      return;
    }
    TreeEntry mine = layerEntries.get(path);
    if (mine != null && mine instanceof TreeEntry.Directory && entry instanceof TreeEntry.Directory) {
      imageDirs.add(path);
      down.add(entry, content);
    } else if (mine != null || entry instanceof TreeEntry.Hardlink h && held.containsKey(h.target())) {
      byte[] bytes = null;
      if (entry instanceof TreeEntry.RegularFile f) {
        heldBytes += f.size();
        if (heldBytes > HELD_MAX) {
          throw new TreeException(path, "the image has more than " + (HELD_MAX >> 20)
              + " MiB of files at the node layer's paths (/usr/lib/basalt, ...): remove them or add the whole node layer");
        }
        bytes = content.readNBytes((int) f.size());
        if (bytes.length != f.size()) throw new TreeException(path, "content ended after " + bytes.length + " of " + f.size() + " bytes");
      }
      held.put(path, new Held(entry, bytes));
    } else {
      down.add(entry, content);
    }
  }

  @Override
  public void finish() throws IOException {
    if (!imageHasPreinit) {
      added = true;
      layer.writeTo(new TreeSink() {
        @Override
        public void add(TreeEntry entry, InputStream content) throws IOException {
          if (!(entry instanceof TreeEntry.Directory && imageDirs.contains(entry.path()))) down.add(entry, content);
        }

        @Override
        public void finish() {}
      });
      // An image hardlink held only because its target was replaced keeps its own content.
      for (Held h : held.values()) {
        if (!layerEntries.containsKey(h.entry.path()) && h.entry instanceof TreeEntry.Hardlink link) {
          Held target = resolve(link);
          if (target.entry instanceof TreeEntry.RegularFile f) {
            replay(new TreeEntry.RegularFile(link.path(), f.metadata(), f.size()), target.content);
          } else {
            throw new TreeException(link.path(), "hardlink to /" + link.target() + ", which the node layer replaces");
          }
        }
      }
    }
    down.finish();
  }

  private Held resolve(TreeEntry.Hardlink link) throws TreeException {
    Held h = held.get(link.target());
    for (int hops = 0; h != null && h.entry instanceof TreeEntry.Hardlink next && hops < 64; hops++) h = held.get(next.target());
    if (h == null) throw new TreeException(link.path(), "hardlink to an unknown entry");
    return h;
  }

  private void replay(TreeEntry e, byte[] content) throws IOException {
    down.add(e, content == null ? null : new ByteArrayInputStream(content));
  }
}
