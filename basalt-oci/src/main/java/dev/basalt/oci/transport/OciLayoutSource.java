package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.layout.OciLayout;
import java.io.IOException;
import java.io.InputStream;

/** {@code oci:DIR[:tag]} source (also used for unpacked oci-archives). */
final class OciLayoutSource implements ImageSource {
  private final OciLayout layout;
  private final String tag;
  private final String name;
  private final AutoCloseable cleanup;

  OciLayoutSource(OciLayout layout, String tag, String name, AutoCloseable cleanup) {
    this.layout = layout;
    this.tag = tag;
    this.name = name;
    this.cleanup = cleanup;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public RawManifest rootManifest() throws IOException {
    return layout.readManifest(layout.find(tag));
  }

  @Override
  public RawManifest manifest(Descriptor d) throws IOException {
    return layout.readManifest(d);
  }

  @Override
  public InputStream blob(Descriptor d) throws IOException {
    return layout.openBlob(d);
  }

  @Override
  public void close() throws IOException {
    if (cleanup != null) {
      try {
        cleanup.close();
      } catch (IOException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    }
  }
}
