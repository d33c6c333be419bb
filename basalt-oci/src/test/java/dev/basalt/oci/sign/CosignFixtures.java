package dev.basalt.oci.sign;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;

/**
 * The shared cosign interoperability fixtures ({@code shared/fixtures/cosign}, beside the project). Found by walking
 * up from the working directory; never copied into the project.
 */
final class CosignFixtures {
  private static final Path ROOT = locate();

  private CosignFixtures() {}

  private static Path locate() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolve("shared/fixtures/cosign");
      if (Files.isDirectory(p)) return p;
    }
    throw new AssertionError("cosign fixtures not found: no shared/fixtures/cosign in " + Path.of("").toAbsolutePath()
        + " or any parent (the CI checkout must have shared/ beside the project)");
  }

  static Path path(String relative) {
    Path p = ROOT.resolve(relative);
    if (!Files.exists(p)) throw new AssertionError("missing cosign fixture " + p);
    return p;
  }

  static byte[] bytes(String relative) {
    try {
      return Files.readAllBytes(path(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static PublicKey publicKey(String relative) {
    try {
      return CosignKeys.readPublicKey(bytes(relative), relative);
    } catch (SignException e) {
      throw new AssertionError(e);
    }
  }

  static CosignSignature signature(String relative) {
    try {
      return CosignSignature.fromSigstoreJson(bytes(relative), relative);
    } catch (SignException e) {
      throw new AssertionError(e);
    }
  }
}
