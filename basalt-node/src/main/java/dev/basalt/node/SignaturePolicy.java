package dev.basalt.node;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import java.io.IOException;

/**
 * Decides whether an image may be deployed, after the reference is resolved and before anything is
 * downloaded (ARCHITECTURE.md §7: resolve, check signature policy, pin digest). Implemented by the
 * signing work; {@link #ACCEPT_ANY} until then.
 */
@FunctionalInterface
public interface SignaturePolicy {
  /**
   * @param ref the reference as given
   * @param manifest the image manifest about to be pinned
   * @param source the source, to fetch signatures or attestations from
   * @throws IOException (a {@link NodeException} saying why) when the image is refused
   */
  void check(String ref, RawManifest manifest, ImageSource source) throws IOException;

  /** Accepts every image. */
  SignaturePolicy ACCEPT_ANY = (ref, manifest, source) -> {};
}
