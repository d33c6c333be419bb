package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentPolicyTest {
  @TempDir Path tmp;

  private static AgentPolicy parse(String toml) throws NodeException {
    return AgentPolicy.parse(toml.getBytes(), "/etc/basalt/agent.toml");
  }

  @Test
  void aMissingFileMeansTheDefaults() throws Exception {
    assertThat(AgentPolicy.read(tmp.resolve("agent.toml"))).isEqualTo(AgentPolicy.DEFAULT);
    assertThat(AgentPolicy.DEFAULT.mode()).isEqualTo(AgentPolicy.Mode.APPLY);
  }

  @Test
  void everyKey() throws Exception {
    AgentPolicy p = parse("""
        mode = "window"
        image = "docker://reg.example/os:stable"
        interval = "15m"
        jitter = 30
        window = "22:30-04:00"
        tls-verify = false
        """);
    assertThat(p).isEqualTo(new AgentPolicy(AgentPolicy.Mode.WINDOW, "docker://reg.example/os:stable", Duration.ofMinutes(15),
        Duration.ofSeconds(30), new AgentPolicy.Window(LocalTime.of(22, 30), LocalTime.of(4, 0)), false));
    assertThat(parse("mode = \"download-only\"\ninterval = \"2h\"\n").jitter()).isEqualTo(Duration.ofMinutes(12));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "mode = \"sometimes\"|mode must be download-only, apply or window, got 'sometimes'",
      "mode = \"window\"|mode \"window\" needs window",
      "window = \"2am-4am\"|window must be \"HH:MM-HH:MM\" (UTC), got '2am-4am'",
      "window = \"25:00-04:00\"|window must be",
      "interval = \"soon\"|interval must be seconds or a duration",
      "interval = 0|interval must be at least 1s",
      "tls-verify = \"no\"|tls-verify must be true or false",
      "colour = \"blue\"|unknown key 'colour'",
      "mode = |not valid TOML"})
  void badInputNamesTheFileAndTheKey(String toml, String message) {
    assertThatThrownBy(() -> parse(toml)).isInstanceOf(NodeException.class)
        .hasMessageStartingWith("/etc/basalt/agent.toml: ").hasMessageContaining(message);
  }

  @ParameterizedTest
  @CsvSource({"02:00,04:00,03:00,true", "02:00,04:00,04:00,false", "02:00,04:00,01:59,false",
      "22:00,02:00,23:30,true", "22:00,02:00,01:00,true", "22:00,02:00,12:00,false"})
  void windowsMayWrapMidnight(String start, String end, String t, boolean inside) {
    assertThat(new AgentPolicy.Window(LocalTime.parse(start), LocalTime.parse(end)).contains(LocalTime.parse(t))).isEqualTo(inside);
  }
}
