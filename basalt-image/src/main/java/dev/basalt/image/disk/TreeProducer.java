package dev.basalt.image.disk;

import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;

/**
 * A tree that can be written into a sink, more than once, with the same entries each time (the
 * node layer: {@code NodeLayer::writeTo}). Does not call {@link TreeSink#finish()}: the tree is one
 * part of a larger one.
 */
@FunctionalInterface
public interface TreeProducer {
  void writeTo(TreeSink sink) throws IOException;
}
