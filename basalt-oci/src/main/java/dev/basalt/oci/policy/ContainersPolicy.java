package dev.basalt.oci.policy;

import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.SignException;
import dev.basalt.oci.sign.SignatureLookup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A parsed containers-policy.json. Scopes of the {@code docker} transport are matched most specific first: the full
 * reference ({@code host/repo:tag} or {@code @digest}), the repository, each parent namespace up to the host
 * ({@code host:port} before {@code host}), then {@code *.domain} wildcards, the transport's {@code ""} scope and
 * finally {@code default}. Other transports use their {@code ""} scope or {@code default}. Every requirement of the
 * chosen scope must accept. Keys are loaded when the file is read, so a broken key fails early, naming its place.
 */
public final class ContainersPolicy implements SignaturePolicy {
  private static final Set<String> SIGSTORE_FIELDS = Set.of("type", "keyPath", "keyPaths", "keyData", "keyDatas",
      "fulcio", "pki", "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas",
      "signedIdentity");

  private final String source;
  private final List<PolicyRequirement> defaults;
  private final Map<String, Map<String, List<PolicyRequirement>>> transports;

  private ContainersPolicy(String source, List<PolicyRequirement> defaults,
      Map<String, Map<String, List<PolicyRequirement>>> transports) {
    this.source = source;
    this.defaults = defaults;
    this.transports = transports;
  }

  static ContainersPolicy load(Path file) throws PolicyException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PolicyException("cannot read policy file " + file + ": " + e.getMessage(), e);
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(bytes, dir, file.toString());
  }

  /**
   * @param baseDir relative {@code keyPath}s are resolved against it
   * @param source names the policy in messages
   */
  public static ContainersPolicy parse(byte[] json, Path baseDir, String source) throws PolicyException {
    JsonNode root;
    try {
      root = Manifests.json().readTree(json);
    } catch (JacksonException e) {
      throw new PolicyException(source + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) throw new PolicyException(source + " is not a JSON object");
    for (String k : root.propertyNames()) {
      if (!k.equals("default") && !k.equals("transports")) throw new PolicyException(source + ": unknown key '" + k + "'");
    }
    Parser p = new Parser(source, baseDir);
    if (!root.has("default")) throw new PolicyException(source + ": 'default' is missing (it is required)");
    List<PolicyRequirement> defaults = p.requirements(root.get("default"), "default");
    Map<String, Map<String, List<PolicyRequirement>>> transports = new LinkedHashMap<>();
    JsonNode ts = root.get("transports");
    if (ts != null) {
      if (!ts.isObject()) throw new PolicyException(source + ": 'transports' is not an object");
      for (var t : ts.properties()) {
        if (!t.getValue().isObject()) {
          throw new PolicyException(source + ": transports." + t.getKey() + " is not an object");
        }
        Map<String, List<PolicyRequirement>> scopes = new LinkedHashMap<>();
        for (var s : t.getValue().properties()) {
          String where = "transports." + t.getKey() + "[\"" + s.getKey() + "\"]";
          if (t.getKey().equals("docker")) validateDockerScope(source, where, s.getKey());
          scopes.put(s.getKey(), p.requirements(s.getValue(), where));
        }
        transports.put(t.getKey(), scopes);
      }
    }
    return new ContainersPolicy(source, defaults, transports);
  }

  private static void validateDockerScope(String source, String where, String scope) throws PolicyException {
    if (scope.isEmpty()) return;
    if (scope.startsWith("*.")) {
      if (scope.length() < 3 || scope.substring(2).contains("*") || scope.contains("/") || scope.contains(":")) {
        throw new PolicyException(source + ": " + where + ": a wildcard scope must be '*.domain'");
      }
      return;
    }
    if (scope.contains("://") || scope.contains("*")) {
      throw new PolicyException(source + ": " + where + ": not a docker scope (host[:port][/namespace...][:tag or @digest])");
    }
  }

  /** The scope that applies to {@code image}: its description and requirements. */
  public Map.Entry<String, List<PolicyRequirement>> scopeFor(ImageReference image) {
    Map<String, List<PolicyRequirement>> scopes = transports.getOrDefault(image.transport(), Map.of());
    if (image instanceof DockerReference d) {
      for (String candidate : dockerScopes(d)) {
        List<PolicyRequirement> r = scopes.get(candidate);
        if (r != null) return Map.entry("transports.docker[\"" + candidate + "\"]", r);
      }
    }
    List<PolicyRequirement> r = scopes.get("");
    if (r != null) return Map.entry("transports." + image.transport() + "[\"\"]", r);
    return Map.entry("default", defaults);
  }

  /** Candidate scopes, most specific first. */
  static List<String> dockerScopes(DockerReference d) {
    List<String> out = new ArrayList<>();
    out.add(d.familiar());
    String name = d.name();
    for (int slash = name.length(); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
      out.add(name.substring(0, slash));
    }
    String host = d.registry();
    int colon = host.lastIndexOf(':');
    if (colon > host.lastIndexOf(']')) {
      host = host.substring(0, colon);
      out.add(host);
    }
    for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) out.add("*" + host.substring(dot));
    return out;
  }

  @Override
  public PolicyDecision check(ImageReference image, RawManifest manifest, SignatureLookup signatures)
      throws IOException {
    Map.Entry<String, List<PolicyRequirement>> scope = scopeFor(image);
    List<String> why = new ArrayList<>();
    Set<String> rootHashes = new TreeSet<>();
    for (PolicyRequirement r : scope.getValue()) {
      PolicyDecision d = r.evaluate(image, manifest, signatures);
      if (!d.accepted()) {
        return PolicyDecision.reject(image + " is rejected by " + source + " " + scope.getKey() + ": " + d.reason());
      }
      why.add(d.reason());
      rootHashes.addAll(d.signedRootHashes());
    }
    return PolicyDecision.accept(source + " " + scope.getKey() + ": " + String.join("; ", why), rootHashes);
  }

  @Override
  public String toString() {
    return "ContainersPolicy[" + source + "]";
  }

  /** Requirement lists with errors that name the file and the JSON location. */
  private record Parser(String source, Path baseDir) {
    List<PolicyRequirement> requirements(JsonNode n, String where) throws PolicyException {
      if (n == null || !n.isArray()) throw fail(where, "is not a list of requirements");
      if (n.isEmpty()) throw fail(where, "is an empty list (write [{\"type\":\"reject\"}] to reject)");
      List<PolicyRequirement> out = new ArrayList<>();
      for (int i = 0; i < n.size(); i++) out.add(requirement(n.get(i), where + "[" + i + "]"));
      return List.copyOf(out);
    }

    PolicyRequirement requirement(JsonNode n, String where) throws PolicyException {
      if (!n.isObject()) throw fail(where, "is not an object");
      String type = n.path("type").asString("");
      return switch (type) {
        case "insecureAcceptAnything" -> {
          onlyType(n, where);
          yield new PolicyRequirement.InsecureAcceptAnything();
        }
        case "reject" -> {
          onlyType(n, where);
          yield new PolicyRequirement.Reject();
        }
        case "signedBy" -> new PolicyRequirement.Unsupported("signedBy (GPG simple signing) at " + where);
        case "signedBaseLayer" -> new PolicyRequirement.Unsupported("signedBaseLayer at " + where);
        case "sigstoreSigned" -> sigstore(n, where);
        case "" -> throw fail(where, "has no 'type'");
        default -> throw fail(where, "has unknown requirement type '" + type + "'");
      };
    }

    void onlyType(JsonNode n, String where) throws PolicyException {
      for (String k : n.propertyNames()) if (!k.equals("type")) throw fail(where, "has unknown key '" + k + "'");
    }

    PolicyRequirement sigstore(JsonNode n, String where) throws PolicyException {
      for (String k : n.propertyNames()) {
        if (!SIGSTORE_FIELDS.contains(k)) throw fail(where, "has unknown key '" + k + "' for sigstoreSigned");
      }
      List<String> sources = new ArrayList<>();
      for (String k : List.of("keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki")) {
        if (n.has(k)) sources.add(k);
      }
      if (sources.size() != 1) {
        throw fail(where, "sigstoreSigned needs exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio or pki"
            + (sources.isEmpty() ? "" : ", got " + String.join(", ", sources)));
      }
      SignedIdentity identity = identity(n.get("signedIdentity"), where + ".signedIdentity");
      String src = sources.getFirst();
      if (src.equals("fulcio") || src.equals("pki")) {
        return new PolicyRequirement.Unsupported("sigstoreSigned with " + src + " (certificate-based) at " + where);
      }
      List<PublicKey> keys = keys(n, src, where);
      List<PublicKey> rekor = new ArrayList<>();
      List<String> rekorSources = new ArrayList<>();
      for (String k : List.of("rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas")) {
        if (n.has(k)) rekorSources.add(k);
      }
      if (rekorSources.size() > 1) {
        throw fail(where, "sigstoreSigned takes at most one of rekorPublicKeyPath, rekorPublicKeyPaths, "
            + "rekorPublicKeyData, rekorPublicKeyDatas, got " + String.join(", ", rekorSources));
      }
      if (!rekorSources.isEmpty()) rekor = keys(n, rekorSources.getFirst(), where);
      return new PolicyRequirement.SigstoreSigned(keys, rekor, identity);
    }

    /** Keys from a {@code ...Path}, {@code ...Paths}, {@code ...Data} or {@code ...Datas} field. */
    List<PublicKey> keys(JsonNode n, String field, String where) throws PolicyException {
      List<PublicKey> keys = new ArrayList<>();
      JsonNode v = n.get(field);
      boolean path = field.endsWith("Path") || field.endsWith("Paths");
      if (field.endsWith("s")) {
        if (!v.isArray() || v.isEmpty()) throw fail(where + "." + field, "is not a non-empty list of strings");
        for (int i = 0; i < v.size(); i++) {
          String w = where + "." + field + "[" + i + "]";
          keys.add(path ? keyFile(text(v.get(i), w), w) : keyData(text(v.get(i), w), w));
        }
      } else {
        String w = where + "." + field;
        keys.add(path ? keyFile(text(v, w), w) : keyData(text(v, w), w));
      }
      return keys;
    }

    SignedIdentity identity(JsonNode n, String where) throws PolicyException {
      if (n == null) return new SignedIdentity.MatchRepoDigestOrExact();
      if (!n.isObject()) throw fail(where, "is not an object");
      String type = n.path("type").asString("");
      Set<String> allowed = switch (type) {
        case "matchExact", "matchRepoDigestOrExact", "matchRepository" -> Set.of("type");
        case "exactReference" -> Set.of("type", "dockerReference");
        case "exactRepository" -> Set.of("type", "dockerRepository");
        case "remapIdentity" -> Set.of("type", "prefix", "signedPrefix");
        case "" -> throw fail(where, "has no 'type'");
        default -> throw fail(where, "has unknown type '" + type + "'");
      };
      for (String k : n.propertyNames()) if (!allowed.contains(k)) throw fail(where, "has unknown key '" + k + "'");
      return switch (type) {
        case "matchExact" -> new SignedIdentity.MatchExact();
        case "matchRepoDigestOrExact" -> new SignedIdentity.MatchRepoDigestOrExact();
        case "matchRepository" -> new SignedIdentity.MatchRepository();
        case "exactReference" -> {
          String r = text(n.get("dockerReference"), where + ".dockerReference");
          DockerReference d = reference(r, where + ".dockerReference");
          String last = r.substring(r.lastIndexOf('/') + 1);
          if (!r.contains("@") && !last.contains(":")) {
            throw fail(where + ".dockerReference", "'" + r + "' must have a tag or digest");
          }
          yield new SignedIdentity.ExactReference(d);
        }
        case "exactRepository" -> {
          String r = text(n.get("dockerRepository"), where + ".dockerRepository");
          yield new SignedIdentity.ExactRepository(reference(r, where + ".dockerRepository").name());
        }
        default -> new SignedIdentity.RemapIdentity(text(n.get("prefix"), where + ".prefix"),
            text(n.get("signedPrefix"), where + ".signedPrefix"));
      };
    }

    DockerReference reference(String r, String where) throws PolicyException {
      try {
        return DockerReference.parse(r);
      } catch (IllegalArgumentException e) {
        throw fail(where, e.getMessage());
      }
    }

    PublicKey keyFile(String path, String where) throws PolicyException {
      Path p = baseDir == null ? Path.of(path) : baseDir.resolve(path);
      try {
        return CosignKeys.readPublicKey(Files.readAllBytes(p), p.toString());
      } catch (SignException e) {
        throw fail(where, e.getMessage());
      } catch (IOException e) {
        throw fail(where, "cannot read key file " + p + ": " + e.getMessage());
      }
    }

    PublicKey keyData(String b64, String where) throws PolicyException {
      try {
        return CosignKeys.readPublicKey(Base64.getDecoder().decode(b64), "key data");
      } catch (IllegalArgumentException e) {
        throw fail(where, "is not base64");
      } catch (SignException e) {
        throw fail(where, e.getMessage());
      }
    }

    String text(JsonNode n, String where) throws PolicyException {
      if (n == null || !n.isString() || n.stringValue().isEmpty()) throw fail(where, "must be a non-empty string");
      return n.stringValue();
    }

    PolicyException fail(String where, String what) {
      return new PolicyException(source + ": " + where + " " + what);
    }
  }
}
