package dev.basalt.node;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.PolicyException;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The node's signature policy, from {@code /etc/basalt} (under a sysroot for offline work):
 * {@code policy.json} (containers-policy.json(5)) applies whenever present, as images built with
 * keys install it; {@code --enforce-signatures} additionally requires a simple-signing signature,
 * for the image's repository, by one of the keys {@code keys/*.pub}. {@code /etc/containers/policy.json}
 * is never read: it belongs to podman/skopeo and usually accepts anything.
 */
public final class NodePolicy {
  /** {@code /etc/basalt}. */
  public static final Path ETC = Path.of("etc/basalt");

  private NodePolicy() {}

  /** {@code <root>/etc/basalt}: {@code root} is {@code /} on a running node, else the sysroot. */
  public static Path etcDir(Path root) {
    return root.resolve(ETC);
  }

  /**
   * The policy of the node whose configuration is in {@code etcBasalt}.
   *
   * @throws PolicyException when the policy file is malformed, or signatures are enforced but no key is installed
   */
  public static dev.basalt.oci.policy.SignaturePolicy load(Path etcBasalt, boolean enforceSignatures)
      throws IOException {
    List<dev.basalt.oci.policy.SignaturePolicy> all = new ArrayList<>();
    Path file = etcBasalt.resolve("policy.json");
    if (Files.exists(file)) all.add(dev.basalt.oci.policy.SignaturePolicy.load(file));
    if (enforceSignatures) {
      Path keysDir = etcBasalt.resolve("keys");
      List<PublicKey> keys = new ArrayList<>();
      if (Files.isDirectory(keysDir)) {
        try (Stream<Path> s = Files.list(keysDir)) {
          for (Path k : s.filter(p -> p.getFileName().toString().endsWith(".pub")).sorted().toList()) {
            keys.add(CosignKeys.readPublicKey(Files.readAllBytes(k), k.toString()));
          }
        }
      }
      if (keys.isEmpty()) {
        throw new PolicyException("signatures are enforced but no public key is installed (" + keysDir + "/*.pub)");
      }
      all.add(dev.basalt.oci.policy.SignaturePolicy.requireSignature(keys));
    }
    if (all.isEmpty()) return dev.basalt.oci.policy.SignaturePolicy.acceptAnything();
    return all.size() == 1 ? all.getFirst() : allOf(all);
  }

  /**
   * The node's update hook: {@link #load} wired to the image's registry, or
   * {@link SignaturePolicy#ACCEPT_ANY} when {@code etcBasalt} has no policy and signatures are not enforced.
   */
  public static SignaturePolicy forNode(Path etcBasalt, boolean enforceSignatures, boolean tlsVerify,
      Credentials credentials) throws IOException {
    if (!enforceSignatures && !Files.exists(etcBasalt.resolve("policy.json"))) return SignaturePolicy.ACCEPT_ANY;
    return SignaturePolicy.enforcing(load(etcBasalt, enforceSignatures), tlsVerify, credentials);
  }

  /**
   * Decides on {@code root}, the top-level manifest {@code ref} resolved to, with the signatures stored next to it in
   * its registry (none for local layouts and archives).
   */
  public static PolicyDecision decide(dev.basalt.oci.policy.SignaturePolicy policy, ImageReference ref, RawManifest root,
      boolean tlsVerify, Credentials credentials) throws IOException {
    return PolicyAdapter.decide(policy, ref, root, tlsVerify, credentials);
  }

  /** Every policy must accept; the root hashes their signatures claim are pooled. */
  static dev.basalt.oci.policy.SignaturePolicy allOf(List<dev.basalt.oci.policy.SignaturePolicy> policies) {
    List<dev.basalt.oci.policy.SignaturePolicy> ps = List.copyOf(policies);
    return (image, manifest, signatures) -> {
      List<String> why = new ArrayList<>();
      Set<String> hashes = new TreeSet<>();
      for (var p : ps) {
        PolicyDecision d = p.check(image, manifest, signatures);
        if (!d.accepted()) return d;
        why.add(d.reason());
        hashes.addAll(d.signedRootHashes());
      }
      return PolicyDecision.accept(String.join("; ", why), hashes);
    };
  }

  /**
   * The admission check, callable without a node (the fleet server will call this before assigning
   * an image to nodes): resolves {@code ref} to its top-level manifest and decides with signatures
   * from its registry. A rejection is a decision, not an exception; the accepted decision carries
   * the root hashes the signatures vouch for.
   */
  public static PolicyDecision check(dev.basalt.oci.policy.SignaturePolicy policy, String ref, boolean tlsVerify,
      Credentials credentials) throws IOException {
    ImageReference parsed;
    try {
      parsed = ImageReference.parse(ref);
    } catch (IllegalArgumentException e) {
      throw new NodeException("invalid image reference '" + ref + "': " + e.getMessage(), e);
    }
    TransportOptions.Builder o = TransportOptions.builder().tlsVerify(tlsVerify);
    if (credentials != null) o.credentials(credentials);
    try (ImageSource src = Transports.openSource(parsed, o.build())) {
      RawManifest root = src.rootManifest();
      return PolicyAdapter.decide(policy, parsed, root, tlsVerify, credentials);
    }
  }
}
