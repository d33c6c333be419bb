package dev.basalt.oci.sign;

import java.security.MessageDigest;
import java.util.Arrays;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * NaCl {@code secretbox} (XSalsa20-Poly1305) in Go's x/crypto layout: the 16-byte tag, then the ciphertext. The
 * first 32 bytes of the XSalsa20 key stream are the one-time Poly1305 key; the message uses the stream after them.
 */
final class SecretBox {
  static final int KEY = 32;
  static final int NONCE = 24;
  static final int TAG = 16;

  private SecretBox() {}

  static byte[] seal(byte[] key, byte[] nonce, byte[] message) {
    XSalsa20Engine stream = stream(key, nonce);
    byte[] polyKey = keystream(stream);
    byte[] out = new byte[TAG + message.length];
    stream.processBytes(message, 0, message.length, out, TAG);
    byte[] tag = mac(polyKey, out, TAG, message.length);
    System.arraycopy(tag, 0, out, 0, TAG);
    return out;
  }

  /** The plaintext, or null when the tag does not match (wrong key or altered box). */
  static byte[] open(byte[] key, byte[] nonce, byte[] box) {
    if (box.length < TAG) return null;
    XSalsa20Engine stream = stream(key, nonce);
    byte[] polyKey = keystream(stream);
    byte[] tag = mac(polyKey, box, TAG, box.length - TAG);
    if (!MessageDigest.isEqual(tag, Arrays.copyOf(box, TAG))) return null;
    byte[] out = new byte[box.length - TAG];
    stream.processBytes(box, TAG, out.length, out, 0);
    return out;
  }

  private static XSalsa20Engine stream(byte[] key, byte[] nonce) {
    if (key.length != KEY || nonce.length != NONCE) {
      throw new IllegalArgumentException("secretbox needs a 32-byte key and a 24-byte nonce");
    }
    XSalsa20Engine e = new XSalsa20Engine();
    e.init(true, new ParametersWithIV(new KeyParameter(key), nonce));
    return e;
  }

  private static byte[] keystream(XSalsa20Engine stream) {
    byte[] k = new byte[32];
    stream.processBytes(new byte[32], 0, 32, k, 0);
    return k;
  }

  private static byte[] mac(byte[] polyKey, byte[] data, int off, int len) {
    Poly1305 p = new Poly1305();
    p.init(new KeyParameter(polyKey));
    p.update(data, off, len);
    byte[] tag = new byte[TAG];
    p.doFinal(tag, 0);
    return tag;
  }
}
