package dev.basalt.oci.api;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest, {@code algorithm:hex}; only sha256 and sha512 are accepted. */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
  private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
  private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

  public Digest {
    switch (algorithm) {
      case "sha256" -> { if (!SHA256.matcher(hex).matches()) throw bad(algorithm + ":" + hex); }
      case "sha512" -> { if (!SHA512.matcher(hex).matches()) throw bad(algorithm + ":" + hex); }
      default -> throw bad(algorithm + ":" + hex);
    }
  }

  private static IllegalArgumentException bad(String s) {
    return new IllegalArgumentException("not a valid sha256/sha512 digest: '" + s + "'");
  }

  /** Parses {@code sha256:<64 hex>}; throws {@link IllegalArgumentException} with the input quoted. */
  public static Digest parse(String s) {
    int i = s == null ? -1 : s.indexOf(':');
    if (i < 0) throw bad(String.valueOf(s));
    return new Digest(s.substring(0, i), s.substring(i + 1));
  }

  public static Digest sha256(byte[] bytes) {
    return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(bytes)));
  }

  public static Digest ofSha256(byte[] rawDigest) {
    return new Digest("sha256", HexFormat.of().formatHex(rawDigest));
  }

  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  public MessageDigest newMessageDigest() {
    try {
      return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** {@code sha256:abc…} — the form used in manifests and URLs. */
  @Override
  public String toString() {
    return algorithm + ":" + hex;
  }

  /** First 12 hex characters, for messages and progress lines. */
  public String shortHex() {
    return hex.substring(0, 12);
  }

  @Override
  public int compareTo(Digest o) {
    return toString().compareTo(o.toString());
  }
}
