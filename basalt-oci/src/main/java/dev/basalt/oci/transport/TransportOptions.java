package dev.basalt.oci.transport;

import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.registry.RegistryClientBuilder;
import java.time.Duration;
import java.util.Objects;

/**
 * How to reach one side of a copy (skopeo's {@code --src-*} / {@code --dest-*} flags). Only registry references
 * use most of these; {@code cache} makes registry downloads resumable and shared.
 */
public final class TransportOptions {
  final boolean tlsVerify;
  final Credentials credentials;
  final CredentialStore credentialStore;
  final Duration connectTimeout;
  final Duration readTimeout;
  final int maxAttempts;
  final BlobCache cache;

  private TransportOptions(Builder b) {
    this.tlsVerify = b.tlsVerify;
    this.credentials = b.credentials;
    this.credentialStore = b.credentialStore;
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.maxAttempts = b.maxAttempts;
    this.cache = b.cache;
  }

  public static TransportOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  void configure(RegistryClientBuilder b) {
    b.tlsVerify(tlsVerify).connectTimeout(connectTimeout).readTimeout(readTimeout).maxAttempts(maxAttempts);
    if (credentials != null) b.credentials(credentials);
    if (credentialStore != null) b.credentialStore(credentialStore);
  }

  /** Builder; setters validate. */
  public static final class Builder {
    private boolean tlsVerify = true;
    private Credentials credentials;
    private CredentialStore credentialStore;
    private Duration connectTimeout = Duration.ofSeconds(30);
    private Duration readTimeout = Duration.ofSeconds(60);
    private int maxAttempts = 4;
    private BlobCache cache;

    private Builder() {}

    /** {@code --tls-verify=false}: HTTPS without certificate checks, or plain HTTP. */
    public Builder tlsVerify(boolean v) {
      this.tlsVerify = v;
      return this;
    }

    /** {@code --creds user:password}. */
    public Builder credentials(Credentials c) {
      this.credentials = Objects.requireNonNull(c, "credentials");
      return this;
    }

    public Builder credentialStore(CredentialStore s) {
      this.credentialStore = Objects.requireNonNull(s, "credentialStore");
      return this;
    }

    public Builder connectTimeout(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("connectTimeout must be positive");
      this.connectTimeout = d;
      return this;
    }

    public Builder readTimeout(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("readTimeout must be positive");
      this.readTimeout = d;
      return this;
    }

    public Builder maxAttempts(int n) {
      if (n < 1 || n > 20) throw new IllegalArgumentException("maxAttempts must be 1..20, got " + n);
      this.maxAttempts = n;
      return this;
    }

    /** Downloads from registries go through this cache (resumable, verified, shared between runs). */
    public Builder cache(BlobCache c) {
      this.cache = Objects.requireNonNull(c, "cache");
      return this;
    }

    public TransportOptions build() {
      return new TransportOptions(this);
    }
  }
}
