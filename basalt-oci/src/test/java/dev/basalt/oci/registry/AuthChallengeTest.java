package dev.basalt.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {
  @Test
  void parsesBearerParamsInAnyOrderQuotedOrNot() {
    AuthChallenge c = AuthChallenge.parse(
        "Bearer scope=\"repository:a/b:pull,push\", realm=\"https://auth.example/token\",service=reg,error=\"insufficient_scope\"");
    assertThat(c.bearer()).isTrue();
    assertThat(c.params()).isEqualTo(Map.of("scope", "repository:a/b:pull,push", "realm", "https://auth.example/token",
        "service", "reg", "error", "insufficient_scope"));
  }

  @Test
  void parsesBasicAndRejectsEmpty() {
    assertThat(AuthChallenge.parse("Basic realm=\"x\"").basic()).isTrue();
    assertThat(AuthChallenge.parse("")).isNull();
    assertThat(AuthChallenge.parse("Bearer realm=\"https://a\"").param("scope")).isNull();
  }
}
