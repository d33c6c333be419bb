package dev.basalt.cli;

import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskConfig;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.lint.Finding;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.node.NodePolicy;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.transport.Transports;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What {@code basalt disk} and {@code basalt install to-disk} share: the layout and config options,
 * the signature policy checked before anything is written, and the {@link DiskBuilder} they set up.
 */
final class DiskOptions {
  @Option(names = "--root-size", paramLabel = "SIZE",
      description = "Size of each root slot (default: 2 x the root filesystem, rounded up to 256 MiB, at least 1 GiB).")
  String rootSize;
  @Option(names = "--esp-size", paramLabel = "SIZE", description = "ESP size (default 512M).")
  String espSize;
  @Option(names = "--config", paramLabel = "FILE",
      description = "config.toml: users, hostname, kernel arguments (users and hostname are kept through updates).")
  Path config;
  @Option(names = "--seed", description = "Seed of every identifier on the disk (default: the manifest digest).")
  String seed;
  @Option(names = "--image-ref", paramLabel = "REF",
      description = "The reference the node follows for updates, recorded for slot a (default: REF when it is docker://...).")
  String imageRef;
  @Option(names = "--no-agent", description = "Leave the agent (jlinked Java runtime + jars, ~55 MB) out of the node layer.")
  boolean noAgent;
  @Option(names = "--policy", paramLabel = "FILE",
      description = "containers-policy.json the image must satisfy, checked before anything is written (default: $BASALT_POLICY when set; /etc/containers/policy.json is never read).")
  Path policy;
  @Option(names = "--verify", paramLabel = "PUB",
      description = "Require a simple-signing signature by this cosign public key for the image's repository (repeatable).")
  List<Path> verifyKeys = List.of();
  @Mixin RegistryFlags flags;

  /** Writes the disk with a builder set up from the options. */
  interface Writer {
    DiskResult write(DiskBuilder builder) throws IOException;
  }

  /** Undoes a written disk whose root-a is not the signed one; returns what was done, for the message. */
  interface Discard {
    String discard() throws IOException;
  }

  /**
   * Opens {@code ref}, checks the signature policies, resolves the image and lets {@code writer}
   * write it; then the signed root hash is compared (and the disk discarded on a mismatch) and lint
   * warnings are printed.
   */
  DiskResult write(String ref, Writer writer, Discard discard) throws IOException {
    DiskConfig cfg = config != null ? DiskConfig.parse(config) : DiskConfig.EMPTY;
    List<SignaturePolicy> policies = new ArrayList<>();
    String fromEnv = DiskCommand.env.apply("BASALT_POLICY");
    Path policyFile = policy != null ? policy : fromEnv != null && !fromEnv.isEmpty() ? Path.of(fromEnv) : null;
    if (policyFile != null) policies.add(SignaturePolicy.load(policyFile));
    if (!verifyKeys.isEmpty()) policies.add(SignaturePolicy.requireSignature(SigningSupport.publicKeys(verifyKeys)));
    ImageReference reference = RegistryFlags.parse(ref);
    try (ImageSource s = Transports.openSource(reference, flags.options(true))) {
      // the source caches its root manifest: the bytes checked are the bytes built from
      Set<String> signedRootHashes = new TreeSet<>();
      for (SignaturePolicy p : policies) {
        PolicyDecision d = NodePolicy.decide(p, reference, s.rootManifest(), flags.tlsVerify,
            flags.creds != null ? Credentials.parse(flags.creds) : null);
        if (!d.accepted()) throw new ImageException("signature policy refuses " + ref + ": " + d.reason());
        System.err.println("signature policy: " + d.reason());
        signedRootHashes.addAll(d.signedRootHashes());
      }
      MergedImage image = MergedImage.resolve(s, flags.platform());
      DiskBuilder b = DiskBuilder.of(image).config(cfg).nodeLayer(NodeLayers.forThisInstallation(!noAgent)::writeTo);
      if (rootSize != null) b.rootSize(DiskCommand.parseSize(rootSize, "--root-size"));
      if (espSize != null) b.espSize(DiskCommand.parseSize(espSize, "--esp-size"));
      if (seed != null) b.seed(seed);
      if (imageRef != null) b.imageRef(imageRef);
      else if (ref.startsWith("docker://")) b.imageRef(ref);
      DiskResult r = writer.write(b);
      if (!signedRootHashes.isEmpty()) checkRootHash(ref, r, signedRootHashes, discard);
      for (Finding f : r.lint().warnings()) {
        System.err.println("warning: [" + f.check().id() + "] " + (f.path() == null ? "" : f.path() + ": ") + f.problem());
      }
      return r;
    }
  }

  /**
   * root-a of a disk without --config and --seed is the slot a node builds from the image: its root hash must be one
   * the signatures vouch for, else the disk is discarded. With either, root-a differs by design and is not comparable.
   */
  private void checkRootHash(String ref, DiskResult r, Set<String> signed, Discard discard) throws IOException {
    if (config != null || seed != null) {
      System.err.println("note: the signed root hash is not compared: --config/--seed change root-a");
      return;
    }
    String actual = r.verity().rootHash();
    if (signed.contains(actual)) {
      System.err.println("root-a verity root hash " + actual + " matches the signed one");
      return;
    }
    String done = discard.discard();
    throw new ImageException("root-a built from " + ref + " has verity root hash " + actual + ", but its signature "
        + "vouches for " + String.join(" or ", signed) + "; " + done);
  }
}
