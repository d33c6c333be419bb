package dev.basalt.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.testing.StubServer;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Basic auth against the real registry with htpasswd; the bearer token flow against a stub registry + token server. */
class RegistryAuthTest {
  static final String USER = "basalt";
  static final String PASSWORD = "s3cret:with:colons";
  static LocalRegistry registry;
  static Path work;

  @BeforeAll
  static void start() throws Exception {
    Tools.require("htpasswd");
    String htpasswd = Tools.check("htpasswd", "-nbB", USER, PASSWORD);
    registry = LocalRegistry.start(htpasswd);
    work = Files.createTempDirectory("reg-auth");
    TestImages.umociImage(work.resolve("layout"), "v1", "amd64");
    TestImages.skopeoCopy("oci:" + work.resolve("layout") + ":v1", "docker://" + registry.hostPort() + "/secure/app:v1",
        "--dest-creds", USER + ":" + PASSWORD);
  }

  @AfterAll
  static void stop() throws Exception {
    registry.close();
    TestImages.deleteTree(work);
  }

  private static RegistryClientBuilder builder() {
    return RegistryClient.builder(registry.hostPort()).tlsVerify(false).maxAttempts(1)
        .credentialStore(CredentialStore.of(List.of()));
  }

  @Test
  void explicitCredentialsLikeDashDashCreds() throws Exception {
    try (RegistryClient c = builder().credentials(Credentials.parse(USER + ":" + PASSWORD)).build()) {
      assertThat(c.fetchManifest("secure/app", "v1").mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
      assertThat(c.listTags("secure/app")).containsExactly("v1");
    }
  }

  @Test
  void credentialsFromDockerConfigJson(@TempDir Path home) throws Exception {
    Path config = home.resolve(".docker/config.json");
    Files.createDirectories(config.getParent());
    String auth = Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    Files.writeString(config, "{\"auths\":{\"other.example\":{\"auth\":\"eDp5\"},\"" + registry.hostPort()
        + "\":{\"auth\":\"" + auth + "\"}}}");
    CredentialStore store = CredentialStore.fromEnvironment(Map.of(), home);
    assertThat(store.files()).containsExactly(config);
    try (RegistryClient c = builder().credentialStore(store).build()) {
      assertThat(c.fetchManifest("secure/app", "v1").digest()).isNotNull();
    }
  }

  @Test
  void credentialsFromContainersAuthJsonWinOverDockerConfig(@TempDir Path dir) throws Exception {
    Path runtime = dir.resolve("run");
    Path auth = runtime.resolve("containers/auth.json");
    Files.createDirectories(auth.getParent());
    Files.writeString(auth, "{\"auths\":{\"http://" + registry.hostPort() + "/v2/\":{\"username\":\"" + USER
        + "\",\"password\":\"" + PASSWORD + "\"}}}");
    Path docker = dir.resolve("home/.docker/config.json");
    Files.createDirectories(docker.getParent());
    Files.writeString(docker, "{\"auths\":{\"" + registry.hostPort() + "\":{\"auth\":\""
        + Base64.getEncoder().encodeToString((USER + ":wrong").getBytes()) + "\"}}}");
    CredentialStore store = CredentialStore.fromEnvironment(Map.of("XDG_RUNTIME_DIR", runtime.toString()), dir.resolve("home"));
    assertThat(store.lookup(registry.hostPort())).contains(new Credentials(USER, PASSWORD));
    try (RegistryClient c = builder().credentialStore(store).build()) {
      assertThat(c.fetchManifest("secure/app", "v1").digest()).isNotNull();
    }
  }

  @Test
  void wrongPasswordIs401WithAHintAndNoSecretInTheMessage() {
    try (RegistryClient c = builder().credentials(new Credentials(USER, "wrong-pass-123")).build()) {
      assertThatThrownBy(() -> c.fetchManifest("secure/app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("denied access (401)")
          .hasMessageContaining("user 'basalt'")
          .hasMessageContaining("--creds")
          .hasMessageNotContaining("wrong-pass-123");
    }
  }

  @Test
  void noCredentialsIs401WithAHint() {
    try (RegistryClient c = builder().build()) {
      assertThatThrownBy(() -> c.fetchManifest("secure/app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("denied access (401)")
          .hasMessageContaining("no credentials")
          .hasMessageContaining("containers/auth.json");
    }
  }

  @Test
  void credentialsNeverPrintTheirPassword() {
    assertThat(Credentials.parse("u:p:q")).hasToString("Credentials[u:***]");
    assertThat(Credentials.parse("u:p:q").password()).isEqualTo("p:q");
    assertThatThrownBy(() -> Credentials.parse("nocolon")).hasMessage("credentials must be given as user:password");
  }

  /** A stub registry that only accepts Bearer tokens from a stub token server (anonymous, then with credentials). */
  @Test
  void bearerTokenFlowWithScopesAnonymousAndCredentialed() throws Exception {
    byte[] manifest = RegistryFailureTest.MANIFEST;
    List<String> tokenRequests = new CopyOnWriteArrayList<>();
    try (StubServer tokens = new StubServer(ex -> {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      tokenRequests.add(ex.getRequestURI().getQuery() + (auth == null ? "" : " " + auth));
      String token = auth == null ? "anon-token" : "user-token";
      StubServer.respond(ex, 200, "application/json", ("{\"access_token\":\"" + token + "\"}").getBytes());
    })) {
      String realm = "http://" + tokens.hostPort() + "/token";
      try (StubServer reg = new StubServer(ex -> {
        String path = ex.getRequestURI().getPath();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        boolean publicRepo = path.startsWith("/v2/public/");
        boolean ok = publicRepo ? auth != null && auth.startsWith("Bearer ") : "Bearer user-token".equals(auth);
        if (!path.equals("/v2/") && ok) {
          StubServer.respond(ex, 200, MediaTypes.OCI_MANIFEST, manifest);
          return;
        }
        String scope = path.equals("/v2/") ? "" : ",scope=\"repository:" + path.split("/")[2] + ":pull\"";
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"stub\"" + scope);
        StubServer.respond(ex, 401, "application/json", "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}".getBytes());
      })) {
        try (RegistryClient anon = RegistryClient.builder(reg.hostPort()).tlsVerify(false)
            .connectTimeout(java.time.Duration.ofMillis(300)).credentialStore(CredentialStore.of(List.of())).build()) {
          assertThat(anon.fetchManifest("public", "v1").digest()).isEqualTo(Digest.sha256(manifest));
          assertThat(anon.fetchManifest("public", "v1").digest()).isEqualTo(Digest.sha256(manifest));
          assertThat(tokenRequests).containsExactly("service=stub&scope=repository:public:pull");
          assertThatThrownBy(() -> anon.fetchManifest("private", "v1")).isInstanceOf(RegistryException.class)
              .hasMessageContaining("denied access (401)").hasMessageContaining("no credentials");
        }
        tokenRequests.clear();
        try (RegistryClient user = RegistryClient.builder(reg.hostPort()).tlsVerify(false)
            .connectTimeout(java.time.Duration.ofMillis(300)).credentials(new Credentials("u", "p"))
            .credentialStore(CredentialStore.of(List.of())).build()) {
          assertThat(user.fetchManifest("private", "v1").digest()).isEqualTo(Digest.sha256(manifest));
          assertThat(tokenRequests).containsExactly("service=stub&scope=repository:private:pull Basic "
              + Base64.getEncoder().encodeToString("u:p".getBytes()));
        }
      }
    }
  }
}
