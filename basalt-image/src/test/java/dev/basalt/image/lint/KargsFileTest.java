package dev.basalt.image.lint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class KargsFileTest {
  private static KargsFile parse(String toml) throws KargsFile.KargsException {
    return KargsFile.parse(toml.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsBootcFilesWithTomlSyntaxVariants() throws Exception {
    KargsFile k = parse("""
        # comment
        kargs = [
          "console=ttyS0,115200",  # trailing comment
          'rd.driver.pre=erofs',
          "quoted \\"x\\"",
        ]
        match-architectures = ["x86_64", "aarch64"]
        """);
    assertThat(k.kargs()).containsExactly("console=ttyS0,115200", "rd.driver.pre=erofs", "quoted \"x\"");
    assertThat(k.appliesTo("x86_64")).isTrue();
    assertThat(k.appliesTo("riscv64")).isFalse();
    assertThat(parse("kargs = []").appliesTo("riscv64")).isTrue();
    assertThat(parse("kargs = []").kargs()).isEqualTo(List.of());
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("kargs = ['a'", "not valid TOML: "),
        Arguments.of("kargs = 1", "'kargs' must be an array of strings, got number 1"),
        Arguments.of("kargs = [true]", "'kargs'[0] must be a string, got boolean true"),
        Arguments.of("kargs = [['a']]", "'kargs'[0] must be a string, got array [\"a\"]"),
        Arguments.of("kargs = []\nmatch-architectures = 'x86_64'",
            "'match-architectures' must be an array of strings, got string \"x86_64\""),
        Arguments.of("match_architectures = []\nkargs = []",
            "unknown key 'match_architectures' (bootc allows only kargs and match-architectures)"),
        Arguments.of("[kargs]\na = 1", "'kargs' must be an array of strings, got object {\"a\":1}"),
        Arguments.of("", "missing the required key 'kargs'"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void refusesWhatBootcRefuses(String toml, String message) {
    assertThatThrownBy(() -> parse(toml)).isInstanceOf(KargsFile.KargsException.class)
        .hasMessageStartingWith(message);
  }
}
