package dev.basalt.oci.sign;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.List;

/** DER ECDSA over SHA-256, the only signature scheme cosign uses with P-256 keys. */
final class Ecdsa {
  private Ecdsa() {}

  static byte[] sign(PrivateKey key, byte[] data) {
    try {
      Signature s = Signature.getInstance("SHA256withECDSA");
      s.initSign(key);
      s.update(data);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ECDSA signing failed", e);
    }
  }

  /** The first key that verifies {@code signature} over {@code data}, or null (also for malformed DER). */
  static PublicKey verifier(List<PublicKey> keys, byte[] data, byte[] signature) {
    for (PublicKey k : keys) {
      try {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(k);
        s.update(data);
        if (s.verify(signature)) return k;
      } catch (GeneralSecurityException | RuntimeException e) {
        // malformed signature or unusable key: not a match
      }
    }
    return null;
  }
}
