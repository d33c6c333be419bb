package dev.basalt.fleet.server.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Secrets: admin tokens {@code bst_...} and enrollment tokens {@code bet_...} (256 random bits, base64url), stored only
 * as SHA-256; short random ids for rows and devices.
 */
public final class Tokens {
  /** Prefix of admin API tokens. */
  public static final String ADMIN_PREFIX = "bst_";
  /** Prefix of enrollment tokens. */
  public static final String ENROLLMENT_PREFIX = "bet_";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private Tokens() {}

  /** A new secret with {@code prefix}. */
  public static String secret(String prefix) {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** The at-rest form of a secret. */
  public static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A random id: {@code prefix} then 20 base-36 characters (about 103 bits). */
  public static String id(String prefix) {
    StringBuilder sb = new StringBuilder(prefix);
    for (int i = 0; i < 20; i++) sb.append(ID_CHARS[RANDOM.nextInt(ID_CHARS.length)]);
    return sb.toString();
  }
}
