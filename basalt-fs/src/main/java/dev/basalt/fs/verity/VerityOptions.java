package dev.basalt.fs.verity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * Salt and UUID written into the verity superblock. Fixing both makes the hash device and the
 * root hash reproducible.
 *
 * @param salt 0..256 bytes (veritysetup's default is 32 random bytes)
 * @param uuid the superblock UUID
 */
public record VerityOptions(byte[] salt, UUID uuid) {

  /** Largest salt the superblock can hold. */
  public static final int MAX_SALT_BYTES = 256;

  public VerityOptions {
    Objects.requireNonNull(salt, "salt");
    Objects.requireNonNull(uuid, "uuid");
    if (salt.length > MAX_SALT_BYTES) {
      throw new IllegalArgumentException("verity salt is " + salt.length + " bytes, at most " + MAX_SALT_BYTES + " allowed");
    }
    salt = salt.clone();
  }

  @Override
  public byte[] salt() { return salt.clone(); }

  /** Hex form of the salt, as veritysetup's {@code --salt} takes it. */
  public String saltHex() { return HexFormat.of().formatHex(salt); }

  /** 32-byte salt and UUID derived from {@code seed} (SHA-256), so equal seeds give equal trees. */
  public static VerityOptions fromSeed(String seed) {
    Objects.requireNonNull(seed, "seed");
    byte[] salt = sha256(("basalt-verity-salt\0" + seed).getBytes(StandardCharsets.UTF_8));
    byte[] u = sha256(("basalt-verity-uuid\0" + seed).getBytes(StandardCharsets.UTF_8));
    return new VerityOptions(salt, uuidFrom(u));
  }

  /** Random 32-byte salt and random UUID (what plain {@code veritysetup format} does). */
  public static VerityOptions random() {
    byte[] salt = new byte[32];
    new SecureRandom().nextBytes(salt);
    return new VerityOptions(salt, UUID.randomUUID());
  }

  /** Parses a hex salt ({@code "-"} or empty for none). */
  public static VerityOptions of(String saltHex, UUID uuid) {
    byte[] salt = saltHex.isEmpty() || saltHex.equals("-") ? new byte[0] : HexFormat.of().parseHex(saltHex);
    return new VerityOptions(salt, uuid);
  }

  private static UUID uuidFrom(byte[] h) {
    long msb = 0;
    long lsb = 0;
    for (int i = 0; i < 8; i++) msb = (msb << 8) | (h[i] & 0xff);
    for (int i = 8; i < 16; i++) lsb = (lsb << 8) | (h[i] & 0xff);
    msb = (msb & ~0xF000L) | 0x4000L; // version 4 layout, like a random one
    lsb = (lsb & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }

  static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerityOptions v && java.util.Arrays.equals(salt, v.salt) && uuid.equals(v.uuid);
  }

  @Override
  public int hashCode() { return java.util.Arrays.hashCode(salt) * 31 + uuid.hashCode(); }

  @Override
  public String toString() { return "VerityOptions[salt=" + saltHex() + ", uuid=" + uuid + "]"; }
}
