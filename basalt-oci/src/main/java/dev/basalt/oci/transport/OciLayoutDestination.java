package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.layout.OciLayout;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * {@code oci:DIR[:tag]} destination. Blobs land as they are verified (content-addressed, invisible until
 * index.json names them); the tag is written to index.json at {@link #commit()} only.
 */
final class OciLayoutDestination implements ImageDestination {
  private final OciLayout layout;
  private final String tag;
  private final String name;
  private final IOAction onCommit;
  private RawManifest root;

  /** Runs after index.json is written (oci-archive packs the directory). */
  interface IOAction {
    void run() throws IOException;
  }

  OciLayoutDestination(OciLayout layout, String tag, String name, IOAction onCommit) {
    this.layout = layout;
    this.tag = tag;
    this.name = name;
    this.onCommit = onCommit;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean hasBlob(Descriptor d) {
    return layout.hasBlob(d.digest());
  }

  @Override
  public void putBlob(Descriptor d, InputStream content) throws IOException {
    layout.putBlob(d, content);
  }

  @Override
  public void putManifest(RawManifest m, boolean isRoot) throws IOException {
    layout.putBlob(m.descriptor(), new ByteArrayInputStream(m.bytes()));
    if (isRoot) root = m;
  }

  @Override
  public void commit() throws IOException {
    if (root == null) throw new ImageException("nothing to commit to " + name + ": no root manifest was written");
    layout.tag(root.descriptor(), tag);
    if (onCommit != null) onCommit.run();
  }

  @Override
  public void close() {
    // Blobs without an index entry are garbage a later gc may remove; nothing else to undo.
  }
}
