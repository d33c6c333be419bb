package dev.basalt.cli;

import dev.basalt.oci.sign.CosignKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = {"Generate an ECDSA P-256 key pair for image signing, in cosign's format:",
        "PREFIX.key (ENCRYPTED SIGSTORE PRIVATE KEY: scrypt + NaCl secretbox, mode 0600) and PREFIX.pub (PEM).",
        "Password: $COSIGN_PASSWORD, else a prompt, else standard input."})
final class ImageKeygenCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Option(names = "--output-key-prefix", paramLabel = "PREFIX", defaultValue = "cosign",
      description = "Path prefix of the two files (default ${DEFAULT-VALUE}).")
  String prefix;
  @Option(names = {"-f", "--force"}, description = "Overwrite existing key files.") boolean force;

  @Override
  public Integer call() throws Exception {
    Path key = Path.of(prefix + ".key");
    Path pub = Path.of(prefix + ".pub");
    for (Path p : new Path[] {key, pub}) {
      if (Files.exists(p) && !force) {
        throw new CommandLine.ParameterException(spec.commandLine(), p + " already exists; use --force to overwrite it");
      }
    }
    char[] password = SigningSupport.password("Enter password for private key: ", true);
    KeyPair kp = CosignKeys.generate();
    String encrypted;
    try {
      encrypted = CosignKeys.encrypt(kp.getPrivate(), password);
    } finally {
      Arrays.fill(password, '\0');
    }
    try (AtomicFile k = new AtomicFile(key); AtomicFile p = new AtomicFile(pub)) {
      Files.createFile(k.temp(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(k.temp(), encrypted, StandardCharsets.US_ASCII);
      Files.writeString(p.temp(), CosignKeys.publicKeyPem(kp.getPublic()), StandardCharsets.US_ASCII);
      k.commit();
      p.commit();
    }
    System.err.println("Private key written to " + key);
    System.err.println("Public key written to " + pub);
    return 0;
  }
}
