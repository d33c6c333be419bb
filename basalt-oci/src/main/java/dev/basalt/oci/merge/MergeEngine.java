package dev.basalt.oci.merge;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarReader;
import dev.basalt.oci.tar.TarType;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The top-down merge: layers are applied from the top one down; what an upper layer defined,
 * whited out or hid under an opaque directory or a non-directory is skipped in lower layers.
 * Non-directories stream to the sink as they are met; directories are emitted last, once every
 * layer had its say about their metadata.
 */
final class MergeEngine {
  /** One readable pass over a layer's tar. */
  interface Archive extends Closeable {
    TarReader reader();

    /** After the end-of-archive marker: read the rest and verify the blob (digest, size). */
    void finishAndVerify() throws IOException;
  }

  interface ArchiveOpener {
    Archive open() throws IOException;
  }

  private static final byte DIR = 0, NONDIR = 1, WHITEOUT = 2;
  private static final InputStream EMPTY = new ByteArrayInputStream(new byte[0]);

  /** What the layers above (and the current one) decided about one path. */
  private static final class Node {
    byte kind;
    int layer;           // layer that created the node (highest)
    int explicitAt = -1; // DIR: highest layer with an explicit directory entry (its metadata wins)
    int deletedAt = -1;  // DIR: highest layer that whited this path out (lower metadata is gone)
    int opaqueAt = -1;   // DIR: entries from layers below this are hidden beneath it
    boolean needsLowerDir; // DIR: the lowest layer so far only implied it, so below it must be a dir or nothing
    boolean hasChildren;
    Metadata meta;
    String impliedBy;    // entry that implied this directory, for messages

    Node(byte kind, int layer) {
      this.kind = kind;
      this.layer = layer;
    }
  }

  /** A file's inode within one layer, shared by its hardlinks. */
  private static final class Group {
    final TarHeader header;
    final int ordinal;
    String emittedAs;
    final List<String> pending = new ArrayList<>(1);

    Group(TarHeader header, int ordinal) {
      this.header = header;
      this.ordinal = ordinal;
    }
  }

  private final TreeSink sink;
  private final boolean whiteouts;
  private final Map<String, Node> nodes = new HashMap<>();
  private final Node root;
  long entries;
  long files;
  long bytes;
  long skipped;
  int rereads;

  /**
   * @param whiteouts interpret {@code .wh.} names (layers); {@code false} refuses them (a plain rootfs tar)
   * @param layerCount layers that will be applied, indices 0 (bottom) .. layerCount-1 (top)
   */
  MergeEngine(TreeSink sink, boolean whiteouts, int layerCount) {
    this.sink = sink;
    this.whiteouts = whiteouts;
    this.root = new Node(DIR, layerCount);
    nodes.put("", root);
  }

  /** Applies layer {@code L}; must be called from the top layer down. */
  void apply(int layer, String label, ArchiveOpener opener, boolean prescan) throws IOException {
    Map<String, Integer> last = prescan ? duplicates(label, opener) : null;
    Map<String, Group> groups = new HashMap<>();
    List<Group> pending = new ArrayList<>();
    try (Archive a = opener.open()) {
      TarReader r = a.reader();
      int ordinal = -1;
      for (TarHeader h; (h = r.next()) != null; ) {
        ordinal++;
        entries++;
        entry(layer, label, h, r, ordinal, last, groups, pending);
      }
      a.finishAndVerify();
    }
    if (!pending.isEmpty()) reread(label, opener, pending);
  }

  /** Emits every directory (sorted by path, so the output order is fixed). */
  void finish() throws IOException {
    List<Map.Entry<String, Node>> dirs = new ArrayList<>();
    for (Map.Entry<String, Node> e : nodes.entrySet()) if (e.getValue().kind == DIR) dirs.add(e);
    dirs.sort(Map.Entry.comparingByKey(Comparator.naturalOrder()));
    for (Map.Entry<String, Node> e : dirs) {
      Metadata m = e.getValue().meta == null ? Metadata.IMPLIED_DIRECTORY : e.getValue().meta;
      sink.add(new TreeEntry.Directory(e.getKey(), m), null);
    }
  }

  private void entry(int L, String label, TarHeader h, TarReader r, int ordinal, Map<String, Integer> last,
                     Map<String, Group> groups, List<Group> pending) throws IOException {
    String raw = h.name();
    long off = r.entryOffset();
    String p = TreePaths.normalize(raw);
    if (p == null) throw error(label, raw, off, "path has a '..' component (refused: it could escape the root)");
    String name = TreePaths.name(p);
    if (!p.isEmpty() && name.startsWith(".wh.")) {
      if (!whiteouts) throw error(label, raw, off, "whiteout names ('.wh.') are not allowed in a root filesystem tar");
      whiteout(L, label, raw, off, p, name);
      return;
    }
    boolean notLast = last != null && last.containsKey(p) && last.get(p) != ordinal;
    if (h.type() == TarType.DIRECTORY) {
      if (!notLast) directory(L, label, raw, off, p, metadata(label, h, off));
      else skipped++;
      return;
    }
    if (p.isEmpty()) throw error(label, raw, off, "the root can only be a directory, not a " + h.type());
    Group g;
    if (h.type() == TarType.HARDLINK) {
      String t = TreePaths.normalize(h.linkName());
      if (t == null) throw error(label, raw, off, "hardlink target '" + h.linkName() + "' has a '..' component (refused)");
      g = groups.get(t);
      if (g == null) {
        throw error(label, raw, off, "hardlink to missing target '" + h.linkName()
            + "' (it must be an earlier non-directory entry of the same layer)");
      }
    } else {
      g = new Group(h, ordinal);
    }
    // Links made later in this layer name whatever is at p at that point of the tar.
    groups.put(p, g);
    if (notLast || !claimNonDir(L, label, raw, off, p)) {
      skipped++;
      return;
    }
    if (g.emittedAs != null) {
      add(label, raw, new TreeEntry.Hardlink(p, g.emittedAs), null);
    } else if (!g.pending.isEmpty()) {
      g.pending.add(p);
    } else if (h.type() != TarType.HARDLINK) {
      emit(label, p, h, r.content(), off);
      g.emittedAs = p;
    } else if (g.header.type() != TarType.REGULAR || g.header.size() == 0) {
      // The original was shadowed above, but it has no content: this link becomes the entry.
      emit(label, p, g.header, EMPTY, off);
      g.emittedAs = p;
    } else {
      // The original's content was skipped (an upper layer overrode its path): read it again later.
      g.pending.add(p);
      pending.add(g);
    }
  }

  private void emit(String label, String p, TarHeader h, InputStream content, long off) throws IOException {
    Metadata m = metadata(label, h, off);
    TreeEntry e = switch (h.type()) {
      case REGULAR -> new TreeEntry.RegularFile(p, m, h.size());
      case SYMLINK -> new TreeEntry.Symlink(p, m, h.linkName());
      case CHAR_DEVICE -> new TreeEntry.Device(p, m, TreeEntry.DeviceType.CHARACTER, h.devMajor(), h.devMinor());
      case BLOCK_DEVICE -> new TreeEntry.Device(p, m, TreeEntry.DeviceType.BLOCK, h.devMajor(), h.devMinor());
      case FIFO -> new TreeEntry.Fifo(p, m);
      case DIRECTORY, HARDLINK -> throw new IllegalStateException(h.type().toString());
    };
    if (h.type() == TarType.REGULAR) {
      files++;
      bytes += h.size();
      add(label, h.name(), e, content);
    } else {
      add(label, h.name(), e, null);
    }
  }

  private void add(String label, String raw, TreeEntry e, InputStream content) throws IOException {
    try {
      sink.add(e, content);
    } catch (TreeException ex) {
      LayerMergeException le = new LayerMergeException(label, raw, ex.getMessage());
      le.initCause(ex);
      throw le;
    }
  }

  /** True when an entry at p from layer L is visible; records it as the path's definition. */
  private boolean claimNonDir(int L, String label, String raw, long off, String p) throws IOException {
    if (ancestorsHide(L, label, raw, off, p)) return false;
    Node n = nodes.get(p);
    if (n == null) {
      ensureParents(L, raw, p);
      nodes.put(p, new Node(NONDIR, L));
      return true;
    }
    switch (n.kind) {
      case NONDIR -> {
        if (n.layer > L) return false;
        throw new LayerMergeException.DuplicateEntry(label, raw, "at byte " + off + ": the path occurs again in the same "
            + "layer after its first occurrence was streamed; merge with prescan to apply tar's last-wins rule");
      }
      case WHITEOUT -> {
        if (n.layer > L) return false;
        ensureParents(L, raw, p);
        n.kind = NONDIR;
        n.layer = L;
        return true;
      }
      default -> {
        if (n.layer > L) {
          if (n.needsLowerDir) {
            throw error(label, raw, off, "is a non-directory, but the upper entry '" + n.impliedBy
                + "' puts content below it without an explicit directory entry: applying the layers would"
                + " write through a symlink or into a file (refused)");
          }
          return false; // replaced by an upper directory or whited out above
        }
        if (n.hasChildren) {
          throw error(label, raw, off, "replaces a directory that already has entries in the same layer");
        }
        n.kind = NONDIR;
        n.meta = null;
        return true;
      }
    }
  }

  private void directory(int L, String label, String raw, long off, String p, Metadata meta) throws IOException {
    if (!p.isEmpty() && ancestorsHide(L, label, raw, off, p)) {
      skipped++;
      return;
    }
    Node n = nodes.get(p);
    if (n == null) {
      ensureParents(L, raw, p);
      n = new Node(DIR, L);
      n.explicitAt = L;
      n.meta = meta;
      nodes.put(p, n);
      return;
    }
    switch (n.kind) {
      case NONDIR -> {
        if (n.layer > L) {
          skipped++;
          return;
        }
        throw new LayerMergeException.DuplicateEntry(label, raw, "at byte " + off + ": a directory replaces a"
            + " non-directory streamed earlier from the same layer; merge with prescan to apply tar's last-wins rule");
      }
      case WHITEOUT -> {
        if (n.layer > L) {
          skipped++;
          return;
        }
        ensureParents(L, raw, p);
        n.kind = DIR;
        n.layer = L;
        n.explicitAt = L;
        n.deletedAt = L;
        n.opaqueAt = L;
        n.meta = meta;
      }
      default -> {
        n.needsLowerDir = false; // a directory here satisfies any upper layer that only implied one
        if (n.explicitAt > L || n.deletedAt > L) {
          skipped++;
          return;
        }
        n.explicitAt = L;
        n.meta = meta;
      }
    }
  }

  private void whiteout(int L, String label, String raw, long off, String p, String name) throws IOException {
    String dir = TreePaths.parent(p);
    if (name.equals(".wh..wh..opq")) {
      opaque(L, label, raw, off, dir);
      return;
    }
    if (name.startsWith(".wh..wh.")) return; // aufs metadata (.wh..wh.plnk, ...): ignored like Docker does
    String target = name.substring(4);
    if (target.isEmpty() || target.equals(".") || target.equals("..")) {
      throw error(label, raw, off, "whiteout of '" + target + "' would remove the root or a parent (refused)");
    }
    String t = dir.isEmpty() ? target : dir + "/" + target;
    if (ancestorsHide(L, label, raw, off, t)) return;
    Node n = nodes.get(t);
    if (n == null) {
      nodes.put(t, new Node(WHITEOUT, L));
    } else if (n.kind == DIR) {
      n.opaqueAt = Math.max(n.opaqueAt, L);
      n.deletedAt = Math.max(n.deletedAt, L);
      n.needsLowerDir = false;
    }
    // NONDIR or WHITEOUT: already hides everything lower
  }

  private void opaque(int L, String label, String raw, long off, String dir) throws IOException {
    if (!dir.isEmpty() && ancestorsHide(L, label, raw, off, dir)) return;
    Node n = nodes.get(dir);
    if (n == null) {
      ensureParents(L, raw, dir);
      n = new Node(DIR, L);
      n.needsLowerDir = true;
      n.impliedBy = raw;
      n.opaqueAt = L;
      nodes.put(dir, n);
      return;
    }
    switch (n.kind) {
      case NONDIR -> {
        if (n.layer == L) throw error(label, raw, off, "opaque marker below a non-directory of the same layer");
      }
      case WHITEOUT -> {
        if (n.layer == L) {
          ensureParents(L, raw, dir);
          n.kind = DIR;
          n.deletedAt = L;
          n.opaqueAt = L;
        }
      }
      default -> {
        n.opaqueAt = Math.max(n.opaqueAt, L);
        if (!dir.isEmpty() && n.explicitAt != L && n.deletedAt != L) {
          n.needsLowerDir = true;
          n.impliedBy = raw;
        }
      }
    }
  }

  /** True when an ancestor decided by an upper layer hides p from layer L. */
  private boolean ancestorsHide(int L, String label, String raw, long off, String p) throws IOException {
    if (root.opaqueAt > L) return true;
    for (int i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
      String q = p.substring(0, i);
      Node n = nodes.get(q);
      if (n == null) continue;
      switch (n.kind) {
        case NONDIR -> {
          if (n.layer > L) return true;
          throw error(label, raw, off, "is below '" + q + "', a non-directory of the same layer"
              + " (extracting it would write through a symlink or into a file; refused)");
        }
        case WHITEOUT -> {
          if (n.layer > L) return true;
        }
        default -> {
          if (n.opaqueAt > L) return true;
        }
      }
    }
    return false;
  }

  /** Makes every ancestor of p a directory node of layer L unless already one. */
  private void ensureParents(int L, String raw, String p) {
    root.hasChildren = true;
    for (int i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
      String q = p.substring(0, i);
      Node n = nodes.get(q);
      if (n == null) {
        n = new Node(DIR, L);
        n.needsLowerDir = true;
        n.impliedBy = raw;
        nodes.put(q, n);
      } else if (n.kind == WHITEOUT) {
        // whited out for lower layers by this same layer, then recreated implicitly
        n.kind = DIR;
        n.layer = L;
        n.deletedAt = L;
        n.opaqueAt = L;
      } else if (n.explicitAt != L && n.deletedAt != L && !n.needsLowerDir) {
        n.needsLowerDir = true;
        n.impliedBy = raw;
      }
      n.hasChildren = true;
    }
  }

  private Map<String, Integer> duplicates(String label, ArchiveOpener opener) throws IOException {
    Map<String, Integer> lastSeen = new HashMap<>();
    Map<String, Integer> dups = new HashMap<>();
    try (Archive a = opener.open()) {
      TarReader r = a.reader();
      int ordinal = -1;
      for (TarHeader h; (h = r.next()) != null; ) {
        ordinal++;
        String p = TreePaths.normalize(h.name());
        if (p == null) continue; // reported by the real pass
        Integer prev = lastSeen.put(p, ordinal);
        if (prev != null) dups.put(p, ordinal);
      }
      a.finishAndVerify();
    }
    rereads++;
    return dups;
  }

  /** The rare second read of a layer: content of files whose original path an upper layer overrode. */
  private void reread(String label, ArchiveOpener opener, List<Group> pending) throws IOException {
    rereads++;
    pending.sort(Comparator.comparingInt(g -> g.ordinal));
    int next = 0;
    try (Archive a = opener.open()) {
      TarReader r = a.reader();
      int ordinal = -1;
      for (TarHeader h; (h = r.next()) != null; ) {
        ordinal++;
        while (next < pending.size() && pending.get(next).ordinal == ordinal) {
          Group g = pending.get(next++);
          String primary = g.pending.get(0);
          emit(label, primary, g.header, r.content(), r.entryOffset());
          g.emittedAs = primary;
          for (int i = 1; i < g.pending.size(); i++) add(label, g.pending.get(i), new TreeEntry.Hardlink(g.pending.get(i), primary), null);
        }
      }
      a.finishAndVerify();
    }
    if (next < pending.size()) throw new LayerMergeException(label, null, "layer changed between two reads");
  }

  private static Metadata metadata(String label, TarHeader h, long off) throws LayerMergeException {
    try {
      return new Metadata(h.mode(), h.uid(), h.gid(), h.mtimeSeconds(), h.mtimeNanos(), h.xattrs());
    } catch (IllegalArgumentException e) {
      throw error(label, h.name(), off, e.getMessage());
    }
  }

  private static LayerMergeException error(String label, String raw, long off, String message) {
    return new LayerMergeException(label, raw, "at byte " + off + ": " + message);
  }
}
