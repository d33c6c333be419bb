package dev.basalt.cli;

import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskConfig;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.lint.Finding;
import dev.basalt.image.node.NodeLayer;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import dev.basalt.node.NodePolicy;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "disk", mixinStandardHelpOptions = true,
    description = {"Make a bootable UEFI disk from an image: GPT with esp (FAT32, systemd-boot), root-a (EROFS",
        "written straight from the layers), root-b, verity-a/-b, var (made and grown on first boot).",
        "The image is linted on the same pass and refused when it cannot boot; the Basalt node layer is",
        "added when the image lacks it. No root, loop devices or mounts needed. Same image -> same bytes."})
final class DiskCommand implements Callable<Integer> {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);

  @Parameters(paramLabel = "REF", description = "docker://…, oci:…, oci-archive:…, docker-archive:…")
  String ref;
  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The disk file to write.")
  Path output;
  @Option(names = "--format", paramLabel = "FORMAT",
      description = "raw, qcow2, vhd or vmdk (default: from the file extension, else raw).")
  String format;
  @Option(names = "--size", paramLabel = "SIZE",
      description = "Disk size, e.g. 8G (default: ESP + 2 root slots + verity + 1 GiB var).")
  String size;
  @Option(names = "--root-size", paramLabel = "SIZE",
      description = "Size of each root slot (default: 2 x the root filesystem, rounded up to 256 MiB, at least 1 GiB).")
  String rootSize;
  @Option(names = "--esp-size", paramLabel = "SIZE", description = "ESP size (default 512M).")
  String espSize;
  @Option(names = "--config", paramLabel = "FILE", description = "config.toml: users, hostname, kernel arguments.")
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

  /** Where {@code $BASALT_POLICY} is read from (tests replace it). */
  static UnaryOperator<String> env = System::getenv;

  @Override
  public Integer call() throws Exception {
    DiskConfig cfg = config != null ? DiskConfig.parse(config) : DiskConfig.EMPTY;
    DiskImageFormat fmt = format != null ? parseFormat(format) : fromExtension(output);
    List<SignaturePolicy> policies = new ArrayList<>();
    Path policyFile = policy != null ? policy : env.apply("BASALT_POLICY") != null && !env.apply("BASALT_POLICY").isEmpty()
        ? Path.of(env.apply("BASALT_POLICY")) : null;
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
      DiskBuilder b = DiskBuilder.of(image).output(output).format(fmt).config(cfg).nodeLayer(NodeLayers.forThisInstallation(!noAgent)::writeTo);
      if (size != null) b.size(parseSize(size, "--size"));
      if (rootSize != null) b.rootSize(parseSize(rootSize, "--root-size"));
      if (espSize != null) b.espSize(parseSize(espSize, "--esp-size"));
      if (seed != null) b.seed(seed);
      if (imageRef != null) b.imageRef(imageRef);
      else if (ref.startsWith("docker://")) b.imageRef(ref);
      long t0 = System.nanoTime();
      DiskResult r = b.build();
      if (!signedRootHashes.isEmpty()) checkRootHash(r, signedRootHashes, cfg);
      double secs = (System.nanoTime() - t0) / 1e9;
      for (Finding f : r.lint().warnings()) {
        System.err.println("warning: [" + f.check().id() + "] " + (f.path() == null ? "" : f.path() + ": ") + f.problem());
      }
      System.out.print(r.summary());
      System.err.printf(Locale.ROOT, "built in %.1f s%s%n", secs, r.nodeLayerAdded() ? " (node layer added)" : "");
    }
    return 0;
  }

  /**
   * root-a of a disk without --config and --seed is the slot a node builds from the image: its root hash must be one
   * the signatures vouch for, else the disk is removed. With either, root-a differs by design and is not comparable.
   */
  private void checkRootHash(DiskResult r, Set<String> signed, DiskConfig cfg) throws IOException {
    if (config != null || seed != null) {
      System.err.println("note: the signed root hash is not compared: --config/--seed change root-a");
      return;
    }
    String actual = r.verity().rootHash();
    if (signed.contains(actual)) {
      System.err.println("root-a verity root hash " + actual + " matches the signed one");
      return;
    }
    Files.deleteIfExists(output);
    throw new ImageException("root-a built from " + ref + " has verity root hash " + actual + ", but its signature "
        + "vouches for " + String.join(" or ", signed) + "; removed " + output);
  }

  static DiskImageFormat parseFormat(String f) {
    try {
      return DiskImageFormat.valueOf(f.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--format must be raw, qcow2, vhd or vmdk, got '" + f + "'");
    }
  }

  static DiskImageFormat fromExtension(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".qcow2")) return DiskImageFormat.QCOW2;
    if (n.endsWith(".vhd")) return DiskImageFormat.VHD;
    if (n.endsWith(".vmdk")) return DiskImageFormat.VMDK;
    return DiskImageFormat.RAW;
  }

  /** Bytes of "8G", "512MiB", "1T", "1048576" (binary units). */
  static long parseSize(String s, String option) {
    Matcher m = SIZE.matcher(s.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(option + " must be a size such as 8G, 512M or 1048576 (bytes), got '" + s + "'");
    }
    int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "K" -> 10;
      case "M" -> 20;
      case "G" -> 30;
      case "T" -> 40;
      default -> 0;
    };
    try {
      long n = Long.parseLong(m.group(1));
      if (n > (Long.MAX_VALUE >> shift)) throw new NumberFormatException();
      return n << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " is too large: '" + s + "'");
    }
  }
}
