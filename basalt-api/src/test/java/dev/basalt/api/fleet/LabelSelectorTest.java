package dev.basalt.api.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LabelSelectorTest {
  static final Map<String, String> LABELS = Map.of("site", "lab", "tier", "canary", "example.com/rack", "r1");

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "''|true",
      "site=lab|true",
      "site==lab|true",
      "site=shop|false",
      "site!=shop|true",
      "site!=lab|false",
      "missing!=x|true",
      "tier in (canary,edge)|true",
      "tier in (edge)|false",
      "tier notin (edge, beta)|true",
      "tier notin (canary)|false",
      "missing notin (a)|true",
      "missing in (a)|false",
      "site|true",
      "missing|false",
      "!missing|true",
      "!site|false",
      "example.com/rack=r1|true",
      "site=lab, tier in (canary,edge), !frozen|true",
      "site=lab,tier=edge|false",
      "site=|false",
  })
  void matches(String selector, boolean expected) {
    assertThat(LabelSelector.parse(selector).matches(LABELS)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "site=lab,|a requirement is missing after the last ','",
      "=lab|has no key",
      "a in b|parentheses",
      "a between (x)|expected =, !=, in or notin",
      "-bad=x|invalid label key '-bad'",
      "a=b c|invalid label value 'b c'",
      "site=lab,,tier=x|column 10: empty requirement",
  })
  void rejectsWithPosition(String selector, String message) {
    assertThatThrownBy(() -> LabelSelector.parse(selector)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label selector '" + selector.strip() + "'").hasMessageContaining(message);
  }

  @org.junit.jupiter.api.Test
  void fleetSpecSplitsAPinnedReferenceAndChecksTheDigest() {
    String d = "sha256:" + "ab".repeat(32);
    FleetSpec s = new FleetSpec("edge", " site=lab ", "r.example/os@" + d, null, null);
    assertThat(s.targetRef()).isEqualTo("r.example/os");
    assertThat(s.targetDigest()).isEqualTo(d);
    assertThat(s.selector()).isEqualTo("site=lab");
    assertThatThrownBy(() -> new FleetSpec("edge", "", "r/os", null, null)).hasMessageContaining("needs both a reference and a digest");
    assertThatThrownBy(() -> new FleetSpec("Edge", "", null, null, null)).hasMessageContaining("fleet name 'Edge'");
    assertThatThrownBy(() -> new FleetSpec("e", "", "r/os@" + d, "sha256:" + "cd".repeat(32), null)).hasMessageContaining("but targetDigest is");
    assertThatThrownBy(() -> new AdminTokenRequest("x", java.util.Set.of("root"), null)).hasMessageContaining("unknown scope 'root'");
  }
}
