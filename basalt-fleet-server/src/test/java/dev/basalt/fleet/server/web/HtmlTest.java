package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HtmlTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "plain text|plain text",
      "<script>x</script>|&lt;script&gt;x&lt;/script&gt;",
      "`a \"b\" 'c' & d`|a &quot;b&quot; &#39;c&#39; &amp; d",
      "`\u0000bell\u0007`|\uFFFDbell\uFFFD"})
  void escapesMarkupQuotesAndControlCharacters(String in, String out) {
    assertThat(Html.esc(in)).isEqualTo(out);
  }

  @Test
  void nullIsEmptyAndSegmentsArePercentEncoded() {
    assertThat(Html.esc(null)).isEmpty();
    assertThat(Html.seg("a b/<c>\"")).isEqualTo("a%20b%2F%3Cc%3E%22");
  }

  @Test
  void digestsAreShortenedWithTheFullValueInTheTooltip() {
    String d = "sha256:" + "ab".repeat(32);
    assertThat(Html.digest(d)).isEqualTo("<code class=\"digest\" title=\"" + d + "\">abababababab</code>");
    assertThat(Html.digest("<x>")).doesNotContain("<x>");
    assertThat(Html.digest(null)).contains("—");
  }

  @Test
  void relativeTimes() {
    Instant now = Instant.parse("2026-05-01T12:00:00Z");
    assertThat(Html.ago(now.minusSeconds(5), now)).contains(">5 s ago<");
    assertThat(Html.ago(now.minusSeconds(7200), now)).contains(">2 h ago<").contains("title=\"2026-05-01 10:00:00Z\"");
    assertThat(Html.ago(null, now)).contains("never");
  }

  @Test
  void tonesOfStatusWords() {
    assertThat(Html.tone("HEALTHY")).isEqualTo("ok");
    assertThat(Html.tone("paused")).isEqualTo("warn");
    assertThat(Html.tone("unhealthy")).isEqualTo("bad");
    assertThat(Html.tone("<x>")).isEqualTo("none");
    assertThat(Html.tone(null)).isEqualTo("none");
  }
}
