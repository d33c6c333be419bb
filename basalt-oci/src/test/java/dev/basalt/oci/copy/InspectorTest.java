package dev.basalt.oci.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.LocalRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class InspectorTest {
  @TempDir Path tmp;

  @Test
  void matchesSkopeoInspectForRegistryAndLayoutAndRawAndConfig() throws Exception {
    JsonMapper json = JsonMapper.builder().build();
    TestImages.umociImage(tmp.resolve("layout"), "v1", "amd64");
    try (LocalRegistry registry = LocalRegistry.start()) {
      String docker = "docker://" + registry.hostPort() + "/i/app:v1";
      TestImages.skopeoCopy("oci:" + tmp.resolve("layout") + ":v1", docker);
      TestImages.skopeoCopy("oci:" + tmp.resolve("layout") + ":v1", "docker://" + registry.hostPort() + "/i/app:v2");
      TransportOptions o = TransportOptions.builder().tlsVerify(false).credentialStore(CredentialStore.of(List.of())).build();
      for (String ref : List.of(docker, "oci:" + tmp.resolve("layout") + ":v1")) {
        ImageReference r = ImageReference.parse(ref);
        String name = r instanceof DockerReference d ? d.name() : null;
        try (ImageSource s = Transports.openSource(r, o)) {
          ObjectNode ours = Inspector.inspect(s, Platform.LINUX_AMD64, name);
          JsonNode skopeo = json.readTree(TestImages.skopeoInspect(ref));
          for (String field : List.of("Name", "Digest", "RepoTags", "Created", "DockerVersion", "Labels", "Architecture",
              "Os", "Layers", "Env")) {
            assertThat(ours.get(field)).as(ref + " " + field).isEqualTo(skopeo.get(field));
          }
          assertThat(ours.get("LayersData")).hasSize(2);
          assertThat(ours.get("LayersData").get(0).get("MIMEType").asString())
              .isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
          assertThat(new String(Inspector.raw(s), StandardCharsets.UTF_8)).isEqualTo(TestImages.skopeoRaw(ref));
          assertThat(new String(Inspector.config(s, Platform.LINUX_AMD64), StandardCharsets.UTF_8))
              .isEqualTo(TestImages.skopeoInspect(ref, "--config", "--raw"));
          assertThat(Inspector.inspectJson(s, Platform.LINUX_AMD64, name)).contains("\"Architecture\" : \"amd64\"");
        }
      }
    }
  }
}
