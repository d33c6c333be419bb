package dev.basalt.oci.registry;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The Distribution API over java.net.http (ORAS 0.7.0 decodes manifests and blobs to Strings, has no Range, no
 * read timeout and no retries — see the module notes). Auth: Basic, and the Bearer token flow with anonymous or
 * credentialed tokens cached per scope.
 */
final class HttpRegistryClient implements RegistryClient {
  private static final Logger LOG = LoggerFactory.getLogger(HttpRegistryClient.class);
  private static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
      MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
  private static final String CREDENTIALS_HINT = "check the credentials (--creds user:password, "
      + "$XDG_RUNTIME_DIR/containers/auth.json or ~/.docker/config.json)";
  private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  private final String registry;
  private final String apiHost;
  private final boolean tlsVerify;
  private final Duration readTimeout;
  private final Duration connectTimeout;
  private final int maxAttempts;
  private final Duration backoff;
  private final int maxManifestSize;
  private final Credentials explicitCredentials;
  private final CredentialStore store;
  private final HttpClient http;

  private volatile String base;
  private volatile AuthChallenge challenge;
  private volatile Optional<Credentials> credentials;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  HttpRegistryClient(RegistryClientBuilder b) {
    this.registry = b.registry;
    this.apiHost = b.registry.equals("docker.io") ? "registry-1.docker.io" : b.registry;
    this.tlsVerify = b.tlsVerify;
    this.readTimeout = b.readTimeout;
    this.connectTimeout = b.connectTimeout;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.retryBackoff;
    this.maxManifestSize = b.maxManifestSize;
    this.explicitCredentials = b.credentials;
    this.store = b.credentialStore != null ? b.credentialStore : CredentialStore.defaults();
    HttpClient.Builder hb = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(b.connectTimeout);
    if (!tlsVerify) hb.sslContext(trustAll());
    this.http = hb.build();
  }

  @Override
  public String registry() {
    return registry;
  }

  @Override
  public void close() {
    // shutdownNow: close() would wait for a body some caller never finished reading.
    http.shutdownNow();
  }

  // ---------------------------------------------------------------- API

  @Override
  public RawManifest fetchManifest(String repository, String reference) throws IOException {
    String url = base() + "/v2/" + repository + "/manifests/" + reference;
    try (Response r = exchange("GET", url, Map.of("Accept", MANIFEST_ACCEPT), null, pull(repository), true)) {
      if (r.status == 404) {
        throw r.error((isDigest(reference) ? "manifest " + reference : "tag '" + reference + "'") + " not found in "
            + registry + "/" + repository);
      }
      r.expect(200, "fetching manifest " + reference + " of " + registry + "/" + repository);
      long declared = r.headers.firstValueAsLong("Content-Length").orElse(-1);
      String what = "manifest " + reference + " of " + registry + "/" + repository + " (" + url + ")";
      if (declared > maxManifestSize) {
        throw new ImageException(what + " is " + declared + " bytes, over the " + maxManifestSize + "-byte limit");
      }
      byte[] bytes = r.body.readNBytes(maxManifestSize + 1);
      if (bytes.length > maxManifestSize) {
        throw new ImageException(what + " is over the " + maxManifestSize + "-byte limit");
      }
      String type = r.headers.firstValue("Content-Type").map(HttpRegistryClient::bareType).orElse("");
      if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
        if (type.isEmpty() || type.equals("application/json") || type.equals("text/plain")) {
          type = Manifests.sniffMediaType(bytes, what);
        }
        if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
          throw new ImageException(what + " has unsupported media type '" + type + "' (expected an OCI or Docker "
              + "schema2 manifest or index)");
        }
      }
      RawManifest m = RawManifest.of(bytes, type);
      if (isDigest(reference) && !m.digest().toString().equals(reference)) {
        throw new ImageException(what + " failed verification: content has digest " + m.digest());
      }
      Optional<String> served = r.headers.firstValue("Docker-Content-Digest");
      if (served.isPresent() && served.get().startsWith("sha256:") && !served.get().equals(m.digest().toString())) {
        throw new ImageException(what + ": registry says digest " + served.get() + " but the content has "
            + m.digest());
      }
      return m;
    }
  }

  @Override
  public BlobResponse fetchBlob(String repository, Digest digest, long offset) throws IOException {
    if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
    String url = base() + "/v2/" + repository + "/blobs/" + digest;
    Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
    Response r = exchange("GET", url, headers, null, pull(repository), true);
    try {
      if (r.status == 404) throw r.error("blob " + digest + " not found in " + registry + "/" + repository);
      if (r.status == 206) {
        String range = r.headers.firstValue("Content-Range").orElse("");
        Matcher m = Pattern.compile("bytes (\\d+)-").matcher(range);
        if (!m.find() || Long.parseLong(m.group(1)) != offset) {
          throw new ImageException("blob " + digest + " at " + url + ": asked for bytes from " + offset
              + ", got Content-Range '" + range + "'");
        }
        return new BlobResponse(r.body, offset, r.headers.firstValueAsLong("Content-Length").orElse(-1));
      }
      r.expect(200, "fetching blob " + digest + " of " + registry + "/" + repository);
      return new BlobResponse(r.body, 0, r.headers.firstValueAsLong("Content-Length").orElse(-1));
    } catch (IOException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  @Override
  public boolean blobExists(String repository, Digest digest) throws IOException {
    String url = base() + "/v2/" + repository + "/blobs/" + digest;
    try (Response r = exchange("HEAD", url, Map.of(), null, pull(repository), true)) {
      if (r.status == 404) return false;
      r.expect(200, "checking blob " + digest + " in " + registry + "/" + repository);
      return true;
    }
  }

  @Override
  public void pushBlob(String repository, Descriptor d, IOSupplier<InputStream> content) throws IOException {
    String scope = push(repository);
    URI location = startUpload(repository, scope, "");
    String put = withQuery(location, "digest=" + enc(d.digest().toString()));
    Body body = new Body(() -> HttpRequest.BodyPublishers.fromPublisher(
        HttpRequest.BodyPublishers.ofInputStream(() -> open(content)), d.size()), d.size());
    try (Response r = exchange("PUT", put, Map.of("Content-Type", "application/octet-stream"), body, scope, true)) {
      r.expect(201, "uploading blob " + d.digest() + " to " + registry + "/" + repository);
    }
  }

  @Override
  public void pushBlobChunked(String repository, Descriptor d, IOSupplier<InputStream> content, int chunkSize)
      throws IOException {
    if (chunkSize < 1) throw new IllegalArgumentException("chunkSize must be positive, got " + chunkSize);
    String scope = push(repository);
    URI location = startUpload(repository, scope, "");
    long offset = 0;
    try (InputStream in = content.get()) {
      while (true) {
        byte[] chunk = in.readNBytes(chunkSize);
        if (chunk.length == 0) break;
        Map<String, String> h = Map.of("Content-Type", "application/octet-stream",
            "Content-Range", offset + "-" + (offset + chunk.length - 1));
        Body body = new Body(() -> HttpRequest.BodyPublishers.ofByteArray(chunk), chunk.length);
        // No retry: after a failed PATCH the upload's offset on the server is unknown.
        try (Response r = exchange("PATCH", location.toString(), h, body, scope, false)) {
          r.expect(202, "uploading chunk at offset " + offset + " of blob " + d.digest() + " to " + registry + "/"
              + repository);
          location = r.location();
        }
        offset += chunk.length;
      }
    }
    if (offset != d.size()) {
      throw new ImageException("blob " + d.digest() + ": source gave " + offset + " bytes, descriptor says " + d.size());
    }
    String put = withQuery(location, "digest=" + enc(d.digest().toString()));
    try (Response r = exchange("PUT", put, Map.of("Content-Type", "application/octet-stream"),
        new Body(HttpRequest.BodyPublishers::noBody, 0), scope, false)) {
      r.expect(201, "finishing upload of blob " + d.digest() + " to " + registry + "/" + repository);
    }
  }

  @Override
  public boolean mountBlob(String fromRepository, String toRepository, Digest digest) throws IOException {
    String scope = push(toRepository) + " " + pull(fromRepository);
    String url = base() + "/v2/" + toRepository + "/blobs/uploads/?mount=" + enc(digest.toString()) + "&from="
        + enc(fromRepository);
    try (Response r = exchange("POST", url, Map.of(), new Body(HttpRequest.BodyPublishers::noBody, 0), scope, true)) {
      if (r.status == 201) return true;
      r.expect(202, "mounting blob " + digest + " from " + fromRepository + " into " + toRepository);
      // Declined: the registry opened an ordinary upload instead; cancel it, the caller uploads.
      try (Response del = exchange("DELETE", r.location().toString(), Map.of(), null, scope, false)) {
        LOG.debug("cancelled upload session after declined mount: {}", del.status);
      } catch (IOException e) {
        LOG.debug("could not cancel upload session: {}", e.toString());
      }
      return false;
    }
  }

  @Override
  public Digest pushManifest(String repository, String reference, RawManifest m) throws IOException {
    String url = base() + "/v2/" + repository + "/manifests/" + reference;
    byte[] bytes = m.bytes();
    Body body = new Body(() -> HttpRequest.BodyPublishers.ofByteArray(bytes), bytes.length);
    try (Response r = exchange("PUT", url, Map.of("Content-Type", m.mediaType()), body, push(repository), true)) {
      r.expect(201, "pushing manifest " + m.digest() + " as " + registry + "/" + repository + ":" + reference);
      Optional<String> served = r.headers.firstValue("Docker-Content-Digest");
      if (served.isPresent() && !served.get().equals(m.digest().toString())) {
        throw new ImageException("registry " + registry + " stored manifest " + m.digest() + " under digest "
            + served.get() + " (" + url + ")");
      }
      return m.digest();
    }
  }

  @Override
  public Optional<RawManifest> referrers(String repository, Digest subject, String artifactType) throws IOException {
    String url = base() + "/v2/" + repository + "/referrers/" + subject
        + (artifactType == null ? "" : "?artifactType=" + enc(artifactType));
    try (Response r = exchange("GET", url, Map.of("Accept", MediaTypes.OCI_INDEX), null, pull(repository), true)) {
      if (r.status == 404) return Optional.empty();
      r.expect(200, "listing referrers of " + subject + " in " + registry + "/" + repository);
      byte[] bytes = r.body.readNBytes(maxManifestSize + 1);
      if (bytes.length > maxManifestSize) {
        throw new ImageException("referrers index of " + subject + " at " + url + " is over the " + maxManifestSize
            + "-byte limit");
      }
      String type = r.headers.firstValue("Content-Type").map(HttpRegistryClient::bareType).orElse("");
      if (!type.equals(MediaTypes.OCI_INDEX)) {
        throw new ImageException("referrers of " + subject + " at " + url + " came as '" + type + "', not an OCI index");
      }
      return Optional.of(RawManifest.of(bytes, MediaTypes.OCI_INDEX));
    }
  }

  @Override
  public List<String> listTags(String repository) throws IOException {
    List<String> tags = new ArrayList<>();
    String url = base() + "/v2/" + repository + "/tags/list?n=1000";
    for (int page = 0; url != null && page < 1000; page++) {
      try (Response r = exchange("GET", url, Map.of("Accept", "application/json"), null, pull(repository), true)) {
        if (r.status == 404) throw r.error("repository " + registry + "/" + repository + " not found");
        r.expect(200, "listing tags of " + registry + "/" + repository);
        JsonNode n;
        try {
          n = Manifests.json().readTree(r.body.readNBytes(16 << 20));
        } catch (JacksonException e) {
          throw new ImageException("tag list of " + registry + "/" + repository + " at " + url + " is not JSON");
        }
        for (JsonNode t : n.path("tags")) tags.add(t.asString());
        String link = r.headers.firstValue("Link").orElse(null);
        Matcher m = link == null ? null : NEXT_LINK.matcher(link);
        url = m != null && m.find() ? r.uri.resolve(m.group(1)).toString() : null;
      }
    }
    return tags;
  }

  // ---------------------------------------------------------------- plumbing

  private URI startUpload(String repository, String scope, String query) throws IOException {
    String url = base() + "/v2/" + repository + "/blobs/uploads/" + query;
    try (Response r = exchange("POST", url, Map.of(), new Body(HttpRequest.BodyPublishers::noBody, 0), scope, true)) {
      r.expect(202, "starting blob upload to " + registry + "/" + repository);
      return r.location();
    }
  }

  private static InputStream open(IOSupplier<InputStream> content) {
    try {
      return content.get();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String pull(String repository) {
    return "repository:" + repository + ":pull";
  }

  private static String push(String repository) {
    return "repository:" + repository + ":pull,push";
  }

  private static boolean isDigest(String reference) {
    return reference.contains(":");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String bareType(String contentType) {
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  private static String withQuery(URI location, String param) {
    String s = location.toString();
    return s + (s.contains("?") ? "&" : "?") + param;
  }

  /** Scheme and host, found once by pinging {@code /v2/}: HTTPS, or plain HTTP when TLS verification is off. */
  private String base() throws IOException {
    String b = base;
    if (b != null) return b;
    synchronized (this) {
      if (base != null) return base;
      List<String> schemes = tlsVerify ? List.of("https") : List.of("https", "http");
      IOException last = null;
      String url = null;
      for (String scheme : schemes) {
        url = scheme + "://" + apiHost + "/v2/";
        boolean probe = scheme.equals("https") && !tlsVerify;
        // An HTTPS probe of a plain-HTTP server may get no answer at all: bound it by the connect timeout.
        Duration timeout = probe && connectTimeout.compareTo(readTimeout) < 0 ? connectTimeout : readTimeout;
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        try {
          HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 401) challenge = AuthChallenge.parse(r.headers().firstValue("WWW-Authenticate").orElse(null));
          LOG.debug("ping {} -> {}", url, r.statusCode());
          base = scheme + "://" + apiHost;
          return base;
        } catch (HttpTimeoutException e) {
          last = e;
          if (!probe) {
            throw new RegistryException("registry " + registry + " did not answer within " + timeout.toMillis()
                + " ms at " + url, 0, url, e);
          }
        } catch (IOException e) {
          last = e;
          LOG.debug("ping {} failed: {}", url, e.toString());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted pinging " + url);
        }
      }
      throw new RegistryException("cannot reach registry " + registry + " at " + url + ": " + describe(last)
          + (tlsVerify ? " (a registry without TLS needs --tls-verify=false)" : ""), 0, url, last);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private Optional<Credentials> credentials() throws IOException {
    Optional<Credentials> c = credentials;
    if (c == null) {
      c = explicitCredentials != null ? Optional.of(explicitCredentials) : store.lookup(registry);
      credentials = c;
    }
    return c;
  }

  private String authorization(String scope) throws IOException {
    AuthChallenge c = challenge;
    if (c == null || scope == null) return null;
    if (c.basic()) return credentials().map(Credentials::basicHeader).orElse(null);
    if (c.bearer()) {
      String t = tokens.get(scope);
      return t == null ? null : "Bearer " + t;
    }
    return null;
  }

  /** Obtains what a 401 asks for; false when there is nothing new to try. */
  private boolean authenticate(AuthChallenge c, String scope, String url) throws IOException {
    if (c == null) return false;
    if (c.basic()) {
      boolean had = challenge != null && challenge.basic();
      challenge = c;
      return !had && credentials().isPresent();
    }
    if (!c.bearer()) {
      throw new RegistryException("registry " + registry + " asks for unsupported auth scheme '" + c.scheme() + "' at "
          + url, 401, url);
    }
    challenge = c;
    String realm = c.param("realm");
    if (realm == null || realm.isEmpty()) {
      throw new RegistryException("registry " + registry + " sent a Bearer challenge without realm at " + url, 401, url);
    }
    StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
    if (c.param("service") != null) q.append("service=").append(enc(c.param("service"))).append('&');
    java.util.Set<String> scopes = new java.util.LinkedHashSet<>(List.of(scope.split(" ")));
    if (c.param("scope") != null) scopes.addAll(List.of(c.param("scope").split(" ")));
    for (String s : scopes) q.append("scope=").append(enc(s)).append('&');
    q.setLength(q.length() - 1);
    Optional<Credentials> creds = credentials();
    Map<String, String> h = new LinkedHashMap<>();
    creds.ifPresent(cr -> h.put("Authorization", cr.basicHeader()));
    String tokenUrl = q.toString();
    try (Response r = send("GET", tokenUrl, h, null, true)) {
      if (r.status == 401 || r.status == 403) {
        throw new RegistryException("token server " + realm + " refused "
            + creds.map(cr -> "user '" + cr.username() + "'").orElse("anonymous access") + " (" + r.status + ") for "
            + scope + ": " + CREDENTIALS_HINT, r.status, realm);
      }
      r.expect(200, "fetching a token for " + scope);
      JsonNode n;
      try {
        n = Manifests.json().readTree(r.body.readNBytes(1 << 20));
      } catch (JacksonException e) {
        throw new RegistryException("token server " + realm + " answered with invalid JSON", r.status, realm);
      }
      String token = n.path("token").asString("");
      if (token.isEmpty()) token = n.path("access_token").asString("");
      if (token.isEmpty()) throw new RegistryException("token server " + realm + " sent no token", r.status, realm);
      String old = tokens.put(scope, token);
      return !token.equals(old);
    }
  }

  /** One logical request: auth (once per 401), redirects, then {@link #send} which retries. */
  private Response exchange(String method, String url, Map<String, String> headers, Body body, String scope,
      boolean retry) throws IOException {
    boolean authRetried = false;
    String current = url;
    for (int hop = 0; ; hop++) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      String auth = hop == 0 || sameHost(url, current) ? authorization(scope) : null;
      if (auth != null) h.put("Authorization", auth);
      Response r = send(method, current, h, body, retry);
      if (r.status == 401 && !authRetried && hop == 0) {
        AuthChallenge c = AuthChallenge.parse(r.headers.firstValue("WWW-Authenticate").orElse(null));
        r.close();
        authRetried = true;
        if (authenticate(c, scope, current)) continue;
        throw authFailure(current, 401);
      }
      if (r.status == 401) {
        r.close();
        throw authFailure(current, 401);
      }
      if (r.status == 403 && auth != null) {
        r.close();
        throw authFailure(current, 403);
      }
      if (Set.of(301, 302, 303, 307, 308).contains(r.status) && hop < 5) {
        URI next = r.location();
        r.close();
        if (r.status == 303) method = "GET";
        current = next.toString();
        continue;
      }
      return r;
    }
  }

  private RegistryException authFailure(String url, int status) throws IOException {
    String who = credentials().map(c -> "user '" + c.username() + "'").orElse("no credentials");
    return new RegistryException("registry " + registry + " denied access (" + status + ") at " + url + " with " + who
        + ": " + CREDENTIALS_HINT, status, url);
  }

  private static boolean sameHost(String a, String b) {
    URI x = URI.create(a);
    URI y = URI.create(b);
    return x.getHost() != null && x.getHost().equals(y.getHost()) && x.getPort() == y.getPort();
  }

  /** Sends with bounded retries (5xx, 429, network errors, timeouts) and exponential backoff. */
  private Response send(String method, String url, Map<String, String> headers, Body body, boolean retry)
      throws IOException {
    int attempts = retry ? maxAttempts : 1;
    Duration delay = backoff;
    for (int attempt = 1; ; attempt++) {
      String failure;
      IOException cause = null;
      int status = 0;
      try {
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url)).timeout(timeoutFor(body));
        headers.forEach(rb::header);
        rb.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body.publisher().get());
        HttpResponse<InputStream> resp = http.send(rb.build(), TimedBody.handler(readTimeout, url));
        LOG.debug("{} {} -> {}", method, url, resp.statusCode());
        Response r = new Response(resp.statusCode(), resp.headers(), resp.body(), URI.create(url), method);
        if (r.status < 500 && r.status != 429) return r;
        status = r.status;
        failure = r.status + " " + r.errorDetail();
        r.close();
      } catch (HttpTimeoutException e) {
        failure = "no response within " + readTimeout.toMillis() + " ms";
        cause = e;
      } catch (IOException e) {
        ImageException content = contentFailure(e);
        if (content != null) throw content;
        failure = describe(e);
        cause = e;
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted: " + method + " " + url);
      }
      if (attempt >= attempts) {
        String msg = method + " " + url + " failed" + (attempts > 1 ? " after " + attempts + " attempts" : "") + ": "
            + failure;
        throw cause != null ? new RegistryException(msg, status, url, cause) : new RegistryException(msg, status, url);
      }
      LOG.debug("{} {} failed ({}), retry {} of {} in {} ms", method, url, failure, attempt, attempts - 1,
          delay.toMillis());
      sleep(delay);
      delay = delay.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay.multipliedBy(2);
    }
  }

  /** A bad source (digest mismatch while uploading) surfaces wrapped by the HTTP client; it must not be retried. */
  private static ImageException contentFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ImageException ie) return ie;
    }
    return null;
  }

  /** Headers must arrive within the read timeout, plus time to send the body at 1 MiB/s at worst. */
  private Duration timeoutFor(Body body) {
    return body == null ? readTimeout : readTimeout.plusSeconds(body.length() >> 20);
  }

  private static void sleep(Duration d) throws java.io.InterruptedIOException {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting to retry");
    }
  }

  private static SSLContext trustAll() {
    X509ExtendedTrustManager tm = new X509ExtendedTrustManager() {
      @Override public void checkClientTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
      @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
      @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
      @Override public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, new SecureRandom());
      return ctx;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A request body that can be produced again for a retry. */
  private record Body(java.util.function.Supplier<HttpRequest.BodyPublisher> publisher, long length) {}

  private final class Response implements AutoCloseable {
    final int status;
    final HttpHeaders headers;
    final InputStream body;
    final URI uri;
    final String method;

    Response(int status, HttpHeaders headers, InputStream body, URI uri, String method) {
      this.status = status;
      this.headers = headers;
      this.body = body;
      this.uri = uri;
      this.method = method;
    }

    void expect(int wanted, String doing) throws IOException {
      if (status != wanted) throw error(doing + " failed");
    }

    RegistryException error(String message) {
      return new RegistryException(message + ": " + method + " " + uri + " answered " + status + " " + errorDetail(),
          status, uri.toString());
    }

    /** The registry's error codes and messages, e.g. {@code MANIFEST_UNKNOWN (manifest unknown)}. */
    String errorDetail() {
      if (method.equals("HEAD")) return "";
      try {
        byte[] b = body.readNBytes(64 << 10);
        JsonNode n = Manifests.json().readTree(b);
        List<String> parts = new ArrayList<>();
        for (JsonNode e : n.path("errors")) {
          parts.add(e.path("code").asString("") + (e.path("message").asString("").isEmpty() ? ""
              : " (" + e.path("message").asString("") + ")"));
        }
        return String.join(", ", parts);
      } catch (IOException | RuntimeException e) {
        return "";
      }
    }

    URI location() throws ImageException {
      String loc = headers.firstValue("Location").orElseThrow(() -> new ImageException(method + " " + uri
          + " answered " + status + " without a Location header"));
      return uri.resolve(loc);
    }

    @Override
    public void close() {
      try {
        body.close();
      } catch (IOException ignored) {
        // nothing to release beyond the connection
      }
    }
  }

}
