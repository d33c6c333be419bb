package dev.basalt.oci.registry;

import dev.basalt.oci.api.Manifests;
import java.time.Duration;
import java.util.Objects;

/** Options of a {@link RegistryClient}; each setter validates its value. */
public final class RegistryClientBuilder {
  final String registry;
  boolean tlsVerify = true;
  Credentials credentials;
  CredentialStore credentialStore;
  Duration connectTimeout = Duration.ofSeconds(30);
  Duration readTimeout = Duration.ofSeconds(60);
  int maxAttempts = 4;
  Duration retryBackoff = Duration.ofMillis(250);
  int maxManifestSize = Manifests.MAX_MANIFEST_SIZE;

  RegistryClientBuilder(String registry) {
    Objects.requireNonNull(registry, "registry");
    if (registry.isEmpty() || registry.contains("/") || registry.contains("://")) {
      throw new IllegalArgumentException("registry must be host[:port], got '" + registry + "'");
    }
    this.registry = registry;
  }

  /**
   * {@code false} = skopeo's {@code --tls-verify=false}: try HTTPS without certificate checks, fall back to plain
   * HTTP. Default true: HTTPS with verified certificates only.
   */
  public RegistryClientBuilder tlsVerify(boolean verify) {
    this.tlsVerify = verify;
    return this;
  }

  /** Explicit credentials ({@code --creds}); they win over the credential store. */
  public RegistryClientBuilder credentials(Credentials c) {
    this.credentials = c;
    return this;
  }

  /** Where to look up credentials when none are given explicitly; default {@link CredentialStore#defaults()}. */
  public RegistryClientBuilder credentialStore(CredentialStore store) {
    this.credentialStore = Objects.requireNonNull(store, "credentialStore");
    return this;
  }

  public RegistryClientBuilder connectTimeout(Duration d) {
    this.connectTimeout = positive(d, "connectTimeout");
    return this;
  }

  /** Longest wait for response headers or for the next bytes of a body. */
  public RegistryClientBuilder readTimeout(Duration d) {
    this.readTimeout = positive(d, "readTimeout");
    return this;
  }

  /** Attempts per request for 5xx / 429 / network errors (1 = no retry). */
  public RegistryClientBuilder maxAttempts(int n) {
    if (n < 1 || n > 20) throw new IllegalArgumentException("maxAttempts must be 1..20, got " + n);
    this.maxAttempts = n;
    return this;
  }

  /** First retry delay; doubles per attempt (capped at 10 s). */
  public RegistryClientBuilder retryBackoff(Duration d) {
    if (d == null || d.isNegative()) throw new IllegalArgumentException("retryBackoff must be >= 0, got " + d);
    this.retryBackoff = d;
    return this;
  }

  /** Largest manifest accepted, default 4 MiB. */
  public RegistryClientBuilder maxManifestSize(int bytes) {
    if (bytes < 64) throw new IllegalArgumentException("maxManifestSize must be at least 64 bytes, got " + bytes);
    this.maxManifestSize = bytes;
    return this;
  }

  private static Duration positive(Duration d, String what) {
    if (d == null || d.isZero() || d.isNegative()) throw new IllegalArgumentException(what + " must be positive, got " + d);
    return d;
  }

  public RegistryClient build() {
    return new HttpRegistryClient(this);
  }
}
