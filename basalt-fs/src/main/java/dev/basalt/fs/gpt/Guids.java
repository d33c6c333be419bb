package dev.basalt.fs.gpt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.UUID;

/**
 * GUIDs as GPT stores them: the first three fields little-endian, the last eight bytes as written
 * in the text form ("mixed-endian").
 */
public final class Guids {
  private Guids() {}

  /** Namespace of {@link #derive}: a fixed, Basalt-specific UUID. */
  public static final UUID NAMESPACE = UUID.fromString("6f3b6a3e-1d1c-5a8e-9a7b-62617361c7e1");

  /** The 16 on-disk bytes of {@code guid}. */
  public static byte[] toBytes(UUID guid) {
    ByteBuffer b = ByteBuffer.allocate(16);
    put(b, guid);
    return b.array();
  }

  /** Writes the 16 on-disk bytes at the buffer's position. */
  public static void put(ByteBuffer b, UUID guid) {
    long msb = guid.getMostSignificantBits();
    ByteOrder o = b.order();
    b.order(ByteOrder.LITTLE_ENDIAN);
    b.putInt((int) (msb >>> 32)).putShort((short) (msb >>> 16)).putShort((short) msb);
    b.order(ByteOrder.BIG_ENDIAN).putLong(guid.getLeastSignificantBits());
    b.order(o);
  }

  /** Reads a GUID from its 16 on-disk bytes at {@code offset}. */
  public static UUID fromBytes(byte[] bytes, int offset) {
    ByteBuffer b = ByteBuffer.wrap(bytes, offset, 16).order(ByteOrder.LITTLE_ENDIAN);
    long a = b.getInt() & 0xFFFF_FFFFL;
    long c = b.getShort() & 0xFFFFL;
    long d = b.getShort() & 0xFFFFL;
    long lsb = b.order(ByteOrder.BIG_ENDIAN).getLong();
    return new UUID((a << 32) | (c << 16) | d, lsb);
  }

  /**
   * Name-based GUID (UUID version 5: SHA-1 over {@link #NAMESPACE} and {@code seed + "/" + label}),
   * so a disk built twice from the same seed gets the same disk and partition GUIDs.
   */
  public static UUID derive(String seed, String label) {
    Objects.requireNonNull(seed, "seed");
    Objects.requireNonNull(label, "label");
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      ByteBuffer ns = ByteBuffer.allocate(16)
          .putLong(NAMESPACE.getMostSignificantBits()).putLong(NAMESPACE.getLeastSignificantBits());
      sha1.update(ns.array());
      byte[] h = sha1.digest((seed + "/" + label).getBytes(StandardCharsets.UTF_8));
      ByteBuffer hb = ByteBuffer.wrap(h);
      long msb = (hb.getLong() & ~0xF000L) | 0x5000L;
      long lsb = (hb.getLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
      return new UUID(msb, lsb);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
