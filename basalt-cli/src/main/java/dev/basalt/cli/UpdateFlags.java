package dev.basalt.cli;

import dev.basalt.node.Node;
import dev.basalt.node.NodePolicy;
import dev.basalt.node.UpdateResult;
import dev.basalt.node.Updater;
import dev.basalt.oci.registry.Credentials;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Flags shared by upgrade and switch. */
final class UpdateFlags {
  @Option(names = "--apply", description = "Reboot into the new deployment once it is staged.") boolean apply;
  @Option(names = "--download-only", description = "Only fetch the missing layers into the cache; touch no slot.") boolean downloadOnly;
  @Option(names = "--force", description = "Stage even a digest that failed to boot here before, or one already booted/staged.") boolean force;
  @Option(names = "--enforce-signatures",
      description = "Require a signature by one of the keys in /etc/basalt/keys/*.pub (besides /etc/basalt/policy.json, which applies whenever present).")
  boolean enforceSignatures;
  @Option(names = "--tries", paramLabel = "N", description = "Trial boots the new entry gets before the bootloader falls back (1-9, default 3).")
  Integer tries;
  @Mixin RegistryFlags registry;

  Updater updater(Node node, NodeFlags flags) throws IOException {
    Updater.Builder b = Updater.builder(node).platform(registry.platform()).tlsVerify(registry.tlsVerify)
        .force(force).listener(flags.listener());
    if (tries != null) b.tries(tries);
    // Images pushed without a node layer get the running node's own (the agent included).
    if (flags.sysroot == null) NodeLayers.ofRunningNode().ifPresent(l -> b.nodeLayer(l::writeTo));
    Credentials creds = registry.creds != null ? Credentials.parse(registry.creds) : null;
    if (creds != null) b.credentials(creds);
    Path root = flags.sysroot != null ? flags.sysroot : Path.of("/");
    b.signaturePolicy(NodePolicy.forNode(NodePolicy.etcDir(root), enforceSignatures, registry.tlsVerify, creds));
    return b.build();
  }

  int run(Node node, NodeFlags flags, String ref) throws IOException {
    if (apply && downloadOnly) throw new IllegalArgumentException("--apply and --download-only exclude each other");
    Updater u = updater(node, flags);
    UpdateResult r = downloadOnly ? u.download(ref) : u.stage(ref);
    String msg = switch (r.outcome()) {
      case STAGED -> "staged " + r.manifestDigest() + " in slot " + r.deployment().slot() + " (serial "
          + r.deployment().serial() + "); it boots next";
      case UP_TO_DATE -> "already booted: " + r.manifestDigest();
      case ALREADY_STAGED -> "already staged: " + r.manifestDigest();
      case DOWNLOADED -> "downloaded " + r.manifestDigest();
    };
    System.err.printf("%s; downloaded %d bytes (%d of %d layers), image %d bytes%n", msg, r.bytesDownloaded(),
        r.layersDownloaded(), r.layers(), r.imageBytes());
    System.out.println(r.manifestDigest());
    if (apply && (r.outcome() == UpdateResult.Outcome.STAGED || r.outcome() == UpdateResult.Outcome.ALREADY_STAGED)) {
      System.err.println("rebooting");
      node.environment().rebooter().reboot();
    }
    return 0;
  }
}
