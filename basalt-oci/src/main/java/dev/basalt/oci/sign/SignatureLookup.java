package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.io.IOException;
import java.util.List;

/** Finds the signatures stored for a manifest digest (in a registry: {@link RegistrySignatures}). */
public interface SignatureLookup {
  /** The layers of the cosign signature image {@code sha256-<hex>.sig}; empty when there is none. */
  List<CosignSignature> simpleSignatures(Digest manifest) throws IOException;

  /** Sigstore bundles attached as referrers of the manifest; empty when there are none. */
  List<AttachedBundle> bundles(Digest manifest) throws IOException;

  /** A bundle blob as found, unparsed (a malformed one becomes a failed check, not an error). */
  record AttachedBundle(byte[] json, String origin) {
    public AttachedBundle {
      json = json.clone();
    }

    @Override
    public byte[] json() {
      return json.clone();
    }
  }

  /** Where no signatures can exist (local layouts, archives). */
  static SignatureLookup none() {
    return new SignatureLookup() {
      @Override
      public List<CosignSignature> simpleSignatures(Digest manifest) {
        return List.of();
      }

      @Override
      public List<AttachedBundle> bundles(Digest manifest) {
        return List.of();
      }
    };
  }
}
