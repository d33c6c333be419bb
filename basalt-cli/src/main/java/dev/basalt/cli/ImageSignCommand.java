package dev.basalt.cli;

import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.ImageSigning;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sign", mixinStandardHelpOptions = true,
    description = {"Sign an image in a registry with a cosign key, as cosign sign --key does.",
        "Writes a simple-signing signature to the sha256-<hex>.sig tag (appending to existing ones) and a Sigstore",
        "bundle (DSSE, in-toto statement) as an OCI referrer. Prints the signed manifest digest."})
final class ImageSignCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", paramLabel = "REF", description = "docker://host/repository:tag (or @digest)") String ref;
  @Option(names = "--key", required = true, paramLabel = "KEY", description = "cosign private key file (cosign.key).")
  Path key;
  @Option(names = "--format", defaultValue = "both", paramLabel = "FORMAT",
      description = "simple-signing, bundle or both (default ${DEFAULT-VALUE}).")
  String format;
  @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "Require HTTPS and verify certificates (default true).")
  boolean tlsVerify = true;
  @Option(names = "--creds", paramLabel = "USER:PASS", description = "Registry credentials.") String creds;

  @Override
  public Integer call() throws Exception {
    boolean simple = format.equals("both") || format.equals("simple-signing");
    boolean bundle = format.equals("both") || format.equals("bundle");
    if (!simple && !bundle) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--format must be simple-signing, bundle or both, "
          + "got '" + format + "'");
    }
    DockerReference r = SigningSupport.dockerReference(spec.commandLine(), ref);
    byte[] pem = SigningSupport.read(key, "private key");
    char[] password = SigningSupport.password("Enter password for private key: ", false);
    PrivateKey pk;
    try {
      pk = CosignKeys.decrypt(pem, password, key.toString());
    } finally {
      Arrays.fill(password, '\0');
    }
    ImageSigning.SignResult res;
    try (RegistryClient c = SigningSupport.client(r, tlsVerify, creds)) {
      res = ImageSigning.sign(c, r, pk, simple, bundle);
    }
    if (res.signatureTag() != null) System.err.println("Pushed signature to " + res.signatureTag());
    if (res.bundleReferrer() != null) System.err.println("Attached Sigstore bundle " + res.bundleReferrer());
    System.out.println(res.manifest());
    return 0;
  }
}
