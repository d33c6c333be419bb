package dev.basalt.cli;

import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.copy.ProgressListener;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.transport.Transports;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.RegistrySignatures;
import dev.basalt.oci.sign.SignatureLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "copy", mixinStandardHelpOptions = true,
    description = {"Copy an image between transports (docker://, oci:, oci-archive:, docker-archive:).",
        "Blobs the destination has are skipped; on the same registry they are mounted. Prints the manifest digest."})
final class CopyCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SRC") String src;
  @Parameters(index = "1", paramLabel = "DST") String dst;

  @Option(names = "--src-tls-verify", arity = "0..1", fallbackValue = "true", description = "Verify TLS of the source registry.")
  Boolean srcTls;
  @Option(names = "--dest-tls-verify", arity = "0..1", fallbackValue = "true", description = "Verify TLS of the destination registry.")
  Boolean destTls;
  @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", description = "Both sides (default true).")
  Boolean tls;
  @Option(names = "--src-creds", paramLabel = "USER:PASS") String srcCreds;
  @Option(names = "--dest-creds", paramLabel = "USER:PASS") String destCreds;
  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
      description = "Platform picked from a multi-arch source (default ${DEFAULT-VALUE}).")
  String platform;
  @Option(names = {"-a", "--all"}, description = "Copy the whole multi-arch index, not one platform.") boolean all;
  @Option(names = {"-q", "--quiet"}, description = "No progress output.") boolean quiet;
  @Option(names = "--digestfile", paramLabel = "FILE", description = "Also write the manifest digest to FILE.") Path digestFile;
  @Option(names = "--policy", paramLabel = "FILE",
      description = "containers-policy.json the source must satisfy; checked before anything is written.")
  Path policy;
  @Option(names = "--verify", paramLabel = "PUB",
      description = "Require a cosign signature by this public key for the source's repository (repeatable).")
  List<Path> verifyKeys = List.of();

  @Override
  public Integer call() throws Exception {
    boolean both = tls == null || tls;
    var srcOpts = RegistryFlags.build(srcTls != null ? srcTls : both, srcCreds, false);
    var dstOpts = RegistryFlags.build(destTls != null ? destTls : both, destCreds, false);
    ProgressListener progress = !quiet && System.console() != null ? new TerminalProgress() : ProgressListener.NONE;
    List<SignaturePolicy> policies = new ArrayList<>();
    if (policy != null) policies.add(SignaturePolicy.load(policy));
    if (!verifyKeys.isEmpty()) policies.add(SignaturePolicy.requireSignature(SigningSupport.publicKeys(verifyKeys)));
    ImageReference srcRef = RegistryFlags.parse(src);
    ImageReference dstRef = RegistryFlags.parse(dst);
    CopyResult r;
    try (ImageSource s = Transports.openSource(srcRef, srcOpts)) {
      // The source caches its root manifest: the bytes checked here are the bytes copied.
      for (SignaturePolicy p : policies) enforce(p, srcRef, s, srcTls != null ? srcTls : both);
      try (ImageDestination d = Transports.openDestination(dstRef, dstOpts)) {
        r = ImageCopier.builder().platform(Platform.parse(platform)).all(all).listener(progress).build().copy(s, d);
      }
    } finally {
      if (progress instanceof TerminalProgress t) t.close();
    }
    if (!quiet) {
      System.err.printf("copied %d blobs, skipped %d, mounted %d%n",
          r.count(ProgressListener.BlobAction.COPIED), r.count(ProgressListener.BlobAction.SKIPPED),
          r.count(ProgressListener.BlobAction.MOUNTED));
    }
    System.out.println(r.manifest().digest());
    if (digestFile != null) Files.writeString(digestFile, r.manifest().digest().toString());
    return 0;
  }

  private void enforce(SignaturePolicy p, ImageReference ref, ImageSource s, boolean tlsVerify) throws Exception {
    RawManifest root = s.rootManifest();
    PolicyDecision decision;
    if (ref instanceof DockerReference d) {
      try (RegistryClient c = SigningSupport.client(d, tlsVerify, srcCreds)) {
        decision = p.check(ref, root, new RegistrySignatures(c, d.repository()));
      }
    } else {
      decision = p.check(ref, root, SignatureLookup.none());
    }
    if (!decision.accepted()) throw new ImageException(decision.reason());
    if (!quiet) System.err.println("signature policy: " + decision.reason());
  }
}
