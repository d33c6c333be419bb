package dev.basalt.cli;

import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.IdentityCheck;
import dev.basalt.oci.sign.ImageSigning;
import dev.basalt.oci.sign.SignatureCheck;
import dev.basalt.oci.sign.Verification;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Verify the cosign signatures of an image in a registry (simple-signing or Sigstore bundle).",
        "A simple signature must be bound to the manifest digest and signed for the image's repository (unless",
        "--any-identity). Exit 0 with the valid signatures listed, 1 with the reason each one failed."})
final class ImageVerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", paramLabel = "REF", description = "docker://host/repository:tag (or @digest)") String ref;
  @Option(names = "--key", required = true, paramLabel = "PUB",
      description = "Trusted public key (cosign.pub); repeat for several.")
  List<Path> keys;
  @Option(names = "--any-identity",
      description = "Accept signatures made for another repository (cosign verify checks only key and digest).")
  boolean anyIdentity;
  @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "Require HTTPS and verify certificates (default true).")
  boolean tlsVerify = true;
  @Option(names = "--creds", paramLabel = "USER:PASS", description = "Registry credentials.") String creds;

  @Override
  public Integer call() throws Exception {
    DockerReference r = SigningSupport.dockerReference(spec.commandLine(), ref);
    var trusted = SigningSupport.publicKeys(keys);
    Verification v;
    try (RegistryClient c = SigningSupport.client(r, tlsVerify, creds)) {
      v = ImageSigning.verify(c, r, trusted, anyIdentity ? IdentityCheck.any() : IdentityCheck.sameRepository(r.name()));
    }
    if (!v.verified()) throw new ImageException(r + ": " + v.reason());
    for (SignatureCheck s : v.valid()) {
      System.out.println("Verified OK: " + s.origin() + " (" + s.kind()
          + (s.identity() != null ? ", identity " + s.identity() : ", bound to the digest") + ")");
    }
    System.out.println(v.manifest());
    return 0;
  }
}
