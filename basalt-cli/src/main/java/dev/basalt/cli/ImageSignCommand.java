package dev.basalt.cli;

import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.ImageSigning;
import dev.basalt.image.disk.SlotImage;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.sign.SimpleSigningPayload;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
  @Option(names = "--with-root-hash",
      description = {"Build the root slot a node builds from this image (EROFS + dm-verity, as basalt disk and basalt upgrade do)",
          "and put its verity root hash into the signed payload (optional." + SimpleSigningPayload.ROOT_HASH + "):",
          "nodes then refuse to boot a slot that differs. Needs --format simple-signing or both."})
  boolean withRootHash;
  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
      description = "With --with-root-hash and a multi-arch index: the platform whose slot is hashed (default ${DEFAULT-VALUE}).")
  String platform;
  @Option(names = "--no-agent", description = "With --with-root-hash: as basalt disk --no-agent (only for images without a node layer).")
  boolean noAgent;

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
    if (withRootHash && !simple) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--with-root-hash needs --format simple-signing or "
          + "both (bundles carry no claims)");
    }
    try (RegistryClient c = SigningSupport.client(r, tlsVerify, creds)) {
      if (withRootHash) {
        RootHash h = rootHash(r);
        System.err.println("root slot of " + h.manifest().digest() + " (" + platform + "): verity root hash " + h.hash());
        res = ImageSigning.sign(c, r, pk, simple, bundle, h.manifest(), Map.of(SimpleSigningPayload.ROOT_HASH, h.hash()));
      } else {
        res = ImageSigning.sign(c, r, pk, simple, bundle);
      }
    }
    if (res.signatureTag() != null) System.err.println("Pushed signature to " + res.signatureTag());
    if (res.bundleReferrer() != null) System.err.println("Attached Sigstore bundle " + res.bundleReferrer());
    System.out.println(res.manifest());
    return 0;
  }

  private record RootHash(RawManifest manifest, String hash) {}

  /** The top-level manifest (what is signed) and the root hash of the slot built from it, from one fetch. */
  private RootHash rootHash(DockerReference r) throws IOException {
    TransportOptions opts = RegistryFlags.build(tlsVerify, creds, true);
    try (ImageSource src = Transports.openSource(r, opts)) {
      RawManifest top = src.rootManifest();
      MergedImage image = MergedImage.resolve(src, Platform.parse(platform));
      SlotImage slot = SlotImage.of(image).nodeLayer(NodeLayers.forThisInstallation(!noAgent)::writeTo);
      Path work = Files.createTempDirectory("basalt-sign-");
      try {
        return new RootHash(top, slot.rootHash(work));
      } finally {
        Files.deleteIfExists(work);
      }
    }
  }
}
