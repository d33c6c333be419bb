package dev.basalt.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.testing.StubServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Misbehaving registries, played by an in-test HTTP server (the real registry cannot be made to fail like this). */
class RegistryFailureTest {
  static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
      + "{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + Digest.sha256(new byte[0])
      + "\",\"size\":0},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

  interface Handler {
    void handle(HttpExchange ex) throws Exception;
  }

  static StubServer stub(Handler h) throws IOException {
    return new StubServer(ex -> {
      try {
        if (ex.getRequestURI().getPath().equals("/v2/")) {
          StubServer.respond(ex, 200, "application/json", "{}".getBytes());
        } else {
          h.handle(ex);
        }
      } catch (IOException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    });
  }

  static RegistryClient client(StubServer s, int attempts, Duration timeout) {
    return RegistryClient.builder(s.hostPort()).tlsVerify(false).maxAttempts(attempts).retryBackoff(Duration.ofMillis(5))
        .readTimeout(timeout).connectTimeout(Duration.ofMillis(300))
        .credentialStore(CredentialStore.of(List.of())).build();
  }

  @Test
  void serverErrorIsRetriedABoundedNumberOfTimesThenNamesUrlAndStatus() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (StubServer s = stub(ex -> {
      calls.incrementAndGet();
      StubServer.respond(ex, 500, "application/json",
          "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk on fire\"}]}".getBytes());
    }); RegistryClient c = client(s, 3, Duration.ofSeconds(5))) {
      assertThatThrownBy(() -> c.fetchManifest("app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("GET http://" + s.hostPort() + "/v2/app/manifests/v1 failed after 3 attempts: 500")
          .hasMessageContaining("disk on fire");
      assertThat(calls.get()).isEqualTo(3);
    }
  }

  @Test
  void transientErrorsAreRetriedUntilSuccess() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (StubServer s = stub(ex -> {
      if (calls.incrementAndGet() <= 2) StubServer.respond(ex, 503, null, new byte[0]);
      else StubServer.respond(ex, 200, MediaTypes.OCI_MANIFEST, MANIFEST);
    }); RegistryClient c = client(s, 3, Duration.ofSeconds(5))) {
      assertThat(c.fetchManifest("app", "v1").digest()).isEqualTo(Digest.sha256(MANIFEST));
      assertThat(calls.get()).isEqualTo(3);
    }
  }

  @Test
  void aRegistryThatHangsTimesOutNamingTheUrl() throws Exception {
    try (StubServer s = stub(ex -> Thread.sleep(20_000)); RegistryClient c = client(s, 2, Duration.ofMillis(400))) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> c.fetchManifest("app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("http://" + s.hostPort() + "/v2/app/manifests/v1")
          .hasMessageContaining("no response within 400 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void aServerThatAcceptsButNeverSpeaksTimesOutOnThePing() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread.ofVirtual().start(() -> {
        try {
          while (true) held.add(silent.accept());
        } catch (IOException closed) {
          // test over
        }
      });
      try (RegistryClient c = RegistryClient.builder("127.0.0.1:" + silent.getLocalPort()).tlsVerify(false)
          .readTimeout(Duration.ofMillis(300)).connectTimeout(Duration.ofMillis(200)).credentialStore(CredentialStore.of(List.of())).build()) {
        assertThatThrownBy(() -> c.fetchManifest("app", "v1"))
            .isInstanceOf(RegistryException.class)
            .hasMessageContaining("did not answer within 300 ms at http://127.0.0.1:" + silent.getLocalPort() + "/v2/");
      }
    }
  }

  @Test
  void aBodyThatStallsTimesOutWhileReading() throws Exception {
    byte[] blob = new byte[100_000];
    Descriptor d = new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(blob), blob.length);
    try (StubServer s = stub(ex -> {
      ex.sendResponseHeaders(200, blob.length);
      ex.getResponseBody().write(blob, 0, 1000);
      ex.getResponseBody().flush();
      Thread.sleep(20_000);
    }); RegistryClient c = client(s, 1, Duration.ofMillis(400))) {
      try (BlobResponse r = c.fetchBlob("app", d.digest(), 0);
          VerifyingInputStream v = new VerifyingInputStream(r.stream(), d, "stub")) {
        assertThatThrownBy(v::drainAndVerify).isInstanceOf(ImageException.class)
            .hasMessageContaining("blob " + d.digest())
            .hasMessageContaining("after 1000 of 100000 bytes")
            .hasMessageContaining("no data for 400 ms while reading http://" + s.hostPort() + "/v2/app/blobs/");
      }
    }
  }

  @Test
  void aTruncatedBlobIsAnErrorNamingTheBlob() throws Exception {
    byte[] blob = new byte[100_000];
    Descriptor d = new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(blob), blob.length);
    try (StubServer s = stub(ex -> {
      ex.sendResponseHeaders(200, blob.length);
      ex.getResponseBody().write(blob, 0, 5000);
      ex.getResponseBody().flush();
      ex.getHttpContext().getServer(); // then the exchange is closed early: the connection drops
    }); RegistryClient c = client(s, 1, Duration.ofSeconds(5))) {
      try (BlobResponse r = c.fetchBlob("app", d.digest(), 0);
          VerifyingInputStream v = new VerifyingInputStream(r.stream(), d, "stub")) {
        assertThatThrownBy(v::drainAndVerify).isInstanceOf(ImageException.class)
            .hasMessageContaining("blob " + d.digest() + " from stub")
            .hasMessageContaining("of 100000 bytes");
      }
    }
  }

  @Test
  void wrongManifestMediaTypeIsRefused() throws Exception {
    try (StubServer s = stub(ex -> StubServer.respond(ex, 200, "text/html", "<html>login</html>".getBytes()));
        RegistryClient c = client(s, 1, Duration.ofSeconds(5))) {
      assertThatThrownBy(() -> c.fetchManifest("app", "v1"))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("manifest v1 of " + s.hostPort() + "/app")
          .hasMessageContaining("unsupported media type 'text/html'");
    }
  }

  @Test
  void manifestWhoseContentDoesNotMatchTheRequestedDigestIsRefused() throws Exception {
    Digest other = Digest.sha256("other".getBytes());
    try (StubServer s = stub(ex -> StubServer.respond(ex, 200, MediaTypes.OCI_MANIFEST, MANIFEST));
        RegistryClient c = client(s, 1, Duration.ofSeconds(5))) {
      assertThatThrownBy(() -> c.fetchManifest("app", other.toString()))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("manifest " + other)
          .hasMessageContaining("failed verification: content has digest " + Digest.sha256(MANIFEST));
    }
  }

  @Test
  void basicChallengeWithoutCredentialsSaysWhereCredentialsComeFrom() throws Exception {
    try (StubServer s = new StubServer(ex -> {
      ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"stub\"");
      StubServer.respond(ex, 401, null, new byte[0]);
    }); RegistryClient c = client(s, 1, Duration.ofSeconds(5))) {
      assertThatThrownBy(() -> c.fetchManifest("app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("denied access (401)")
          .hasMessageContaining("with no credentials")
          .hasMessageContaining("--creds")
          .hasMessageContaining("~/.docker/config.json")
          .extracting(e -> ((RegistryException) e).status()).isEqualTo(401);
    }
  }
}
