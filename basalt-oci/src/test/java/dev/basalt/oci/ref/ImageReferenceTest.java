package dev.basalt.oci.ref;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {
  @ParameterizedTest
  @CsvSource({
      "docker://debian, docker://docker.io/library/debian:latest",
      "docker://debian:12, docker://docker.io/library/debian:12",
      "docker://library/debian, docker://docker.io/library/debian:latest",
      "docker://index.docker.io/foo/bar:v1, docker://docker.io/foo/bar:v1",
      "docker://quay.io/a/b/c:1.0, docker://quay.io/a/b/c:1.0",
      "docker://localhost/app, docker://localhost/app:latest",
      "docker://127.0.0.1:5000/app:t, docker://127.0.0.1:5000/app:t",
      "docker://host:5000/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,"
          + " docker://host:5000/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "oci:/tmp/layout, oci:/tmp/layout",
      "oci:/tmp/layout:v1, oci:/tmp/layout:v1",
      "oci-archive:img.tar:v2, oci-archive:img.tar:v2",
      "docker-archive:d.tar, docker-archive:d.tar",
      "docker-archive:d.tar:foo/bar:v1, docker-archive:d.tar:docker.io/foo/bar:v1",
      "docker-archive:d.tar:foo/bar, docker-archive:d.tar:docker.io/foo/bar:latest",
  })
  void parsesAndNormalizesLikeSkopeo(String input, String canonical) {
    ImageReference r = ImageReference.parse(input);
    assertThat(r).hasToString(canonical);
    assertThat(ImageReference.parse(canonical)).isEqualTo(r);
  }

  @Test
  void dockerParts() {
    DockerReference r = (DockerReference) ImageReference.parse("docker://127.0.0.1:5000/a/b:c");
    assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
    assertThat(r.repository()).isEqualTo("a/b");
    assertThat(r.tag()).isEqualTo("c");
    assertThat(r.digest()).isNull();
    assertThat(r.reference()).isEqualTo("c");
  }

  @Test
  void ociParts() {
    OciLayoutReference r = (OciLayoutReference) ImageReference.parse("oci:/x/y:tag:with:colons");
    assertThat(r.directory()).isEqualTo(Path.of("/x/y"));
    assertThat(r.tag()).isEqualTo("tag:with:colons");
    assertThat(((OciLayoutReference) ImageReference.parse("oci:dir")).tag()).isNull();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "debian | has no transport",
      "docker:debian | needs '//'",
      "foo://bar | unknown transport 'foo'",
      "docker:// | no repository name",
      "docker://Debian | must be lowercase",
      "docker://a/b:bad tag | invalid tag 'bad tag'",
      "docker://a@sha256:123 | invalid digest 'sha256:123'",
      "docker://a:1@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 | both a tag and a digest",
      "docker://host:99999/a | invalid port '99999'",
      "docker://a//b | invalid repository name component ''",
      "oci: | empty path",
      "oci:dir:bad tag | invalid tag 'bad tag'",
      "oci-archive::t | empty path",
      "docker-archive:f.tar:a@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 | digest",
      "docker-archive:f.tar:UP | bad image name 'UP'",
  })
  void rejectsWithPreciseMessageQuotingInput(String input, String expected) {
    assertThatThrownBy(() -> ImageReference.parse(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(expected)
        .hasMessageContaining(input.split(":")[0]);
  }
}
