package dev.basalt.cli;

import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.registry.RegistryClientBuilder;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.SignException;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/** Passwords, key files and registry references for the signing commands, read the way cosign reads them. */
final class SigningSupport {
  static final String PASSWORD_ENV = "COSIGN_PASSWORD";

  private SigningSupport() {}

  /**
   * The key password: {@code $COSIGN_PASSWORD} when set (even empty), else a prompt on the terminal (twice when
   * {@code confirm}), else all of standard input without its final newline, as cosign does.
   */
  static char[] password(String prompt, boolean confirm) throws IOException {
    String env = System.getenv(PASSWORD_ENV);
    if (env != null) return env.toCharArray();
    Console c = System.console();
    if (c != null && isTerminal(c)) {
      char[] p = c.readPassword("%s", prompt);
      if (p == null) throw new IOException("no password entered");
      if (confirm) {
        char[] again = c.readPassword("Enter password for private key again: ");
        if (again == null || !Arrays.equals(p, again)) throw new IOException("passwords do not match");
      }
      return p;
    }
    String s = new String(System.in.readNBytes(64 << 10), StandardCharsets.UTF_8);
    if (s.endsWith("\n")) s = s.substring(0, s.length() - (s.endsWith("\r\n") ? 2 : 1));
    return s.toCharArray();
  }

  /** JDK 22+ may hand out a Console for redirected streams; only a real terminal may be prompted. */
  private static boolean isTerminal(Console c) {
    try {
      return (boolean) Console.class.getMethod("isTerminal").invoke(c);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  static List<PublicKey> publicKeys(List<Path> files) throws IOException {
    List<PublicKey> keys = new ArrayList<>();
    for (Path f : files) keys.add(CosignKeys.readPublicKey(read(f, "public key"), f.toString()));
    return keys;
  }

  static byte[] read(Path f, String what) throws IOException {
    try {
      return Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      throw new SignException(what + " file " + f + " does not exist");
    }
  }

  /** {@code docker://host/repo:tag} or plain {@code host/repo:tag}: signatures live in registries only. */
  static DockerReference dockerReference(CommandLine cl, String ref) {
    String r = ref.startsWith("docker://") ? ref.substring("docker://".length()) : ref;
    if (r.matches("^(oci|oci-archive|docker-archive|dir):.*") || r.contains("://")) {
      throw new CommandLine.ParameterException(cl, "image reference '" + ref
          + "': signatures are stored in registries; use docker://host/repository:tag");
    }
    try {
      return DockerReference.parse(r);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
  }

  static RegistryClient client(DockerReference ref, boolean tlsVerify, String creds) {
    RegistryClientBuilder b = RegistryClient.builder(ref.registry()).tlsVerify(tlsVerify);
    if (creds != null) b.credentials(Credentials.parse(creds));
    return b.build();
  }
}
