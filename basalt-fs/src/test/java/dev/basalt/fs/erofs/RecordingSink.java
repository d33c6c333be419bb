package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Test helper: records a (small) entry stream with file contents, to replay it in other orders. */
final class RecordingSink implements TreeSink {
  record Item(TreeEntry entry, byte[] content) {}

  final List<Item> items = new ArrayList<>();

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    items.add(new Item(entry, content == null ? null : content.readAllBytes()));
  }

  @Override
  public void finish() {}

  static void replay(List<Item> items, TreeSink sink) throws IOException {
    for (Item i : items) sink.add(i.entry(), i.content() == null ? null : new ByteArrayInputStream(i.content()));
  }
}
