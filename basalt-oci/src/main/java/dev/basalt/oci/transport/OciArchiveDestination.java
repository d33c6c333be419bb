package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.layout.OciLayout;
import dev.basalt.oci.tar.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code oci-archive:FILE[:tag]} destination: an {@link OciLayout} staged in a directory beside FILE, packed at
 * commit into a deterministic tar ({@code oci-layout}, {@code index.json}, then {@code blobs/} sorted; root-owned,
 * mtime 0) that replaces FILE atomically. Like skopeo, an existing FILE is overwritten, not added to.
 */
final class OciArchiveDestination implements ImageDestination {
  private final Path staging;
  private final OciLayoutDestination layout;

  private OciArchiveDestination(Path staging, OciLayoutDestination layout) {
    this.staging = staging;
    this.layout = layout;
  }

  static OciArchiveDestination create(Path file, String tag, String name) throws IOException {
    Path staging = ArchiveOutput.stagingDir(file, name);
    try {
      OciLayout l = OciLayout.create(staging);
      return new OciArchiveDestination(staging,
          new OciLayoutDestination(l, tag, name, () -> ArchiveOutput.publish(file, tar -> pack(staging, tar))));
    } catch (IOException | RuntimeException e) {
      ArchiveOutput.deleteTree(staging);
      throw e;
    }
  }

  /** Layout files first (a streaming reader finds the index before the blobs), then blobs by name. */
  static void pack(Path layout, TarWriter tar) throws IOException {
    ArchiveOutput.addFile(tar, "oci-layout", layout.resolve("oci-layout"));
    ArchiveOutput.addFile(tar, "index.json", layout.resolve("index.json"));
    tar.add(ArchiveOutput.dirHeader("blobs/"), null);
    for (Path alg : sorted(layout.resolve("blobs"))) {
      if (!Files.isDirectory(alg)) continue;
      String dir = "blobs/" + alg.getFileName() + "/";
      tar.add(ArchiveOutput.dirHeader(dir), null);
      for (Path blob : sorted(alg)) {
        if (Files.isRegularFile(blob)) ArchiveOutput.addFile(tar, dir + blob.getFileName(), blob);
      }
    }
  }

  private static List<Path> sorted(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
    }
  }

  @Override
  public String name() {
    return layout.name();
  }

  @Override
  public boolean hasBlob(Descriptor d) {
    return layout.hasBlob(d);
  }

  @Override
  public void putBlob(Descriptor d, InputStream content) throws IOException {
    layout.putBlob(d, content);
  }

  @Override
  public void putManifest(RawManifest m, boolean root) throws IOException {
    layout.putManifest(m, root);
  }

  @Override
  public void commit() throws IOException {
    layout.commit();
  }

  /** The staging directory goes in every case; FILE exists only if commit succeeded. */
  @Override
  public void close() throws IOException {
    layout.close();
    ArchiveOutput.deleteTree(staging);
  }

}
