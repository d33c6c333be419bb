package dev.basalt.fleet.server.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuantityTest {
  @ParameterizedTest(name = "{0} of {1}: batch {2}, budget {3}")
  @CsvSource({
      "1%, 1000, 10, 10",
      "1%, 50, 1, 1",
      "10%, 7, 1, 1",
      "10%, 0, 0, 0",
      "33.3%, 3, 1, 1",
      "50%, 3, 2, 1",
      "100%, 9, 9, 9",
      "10, 5, 5, 10",
      "all, 12, 12, 12",
      "ALL, 0, 0, 0"})
  void sizesOfBatchesAndBudgets(String text, int total, int batch, int budget) {
    Quantity q = Quantity.parse(text);
    assertThat(q.ofBatch(total)).isEqualTo(batch);
    assertThat(q.ofBudget(total)).isEqualTo(budget);
    assertThat(Quantity.parse(q.text())).isEqualTo(q);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @CsvSource(delimiter = ';', value = {
      "x; \"x\" is not a count (\"10\"), a percentage (\"10%\") or \"all\"",
      "%; \"%\" is not a count (\"10\"), a percentage (\"10%\") or \"all\"",
      "0%; \"0%\": a percentage must be more than 0% and at most 100%, got 0.0%",
      "NaN%; \"NaN%\": a percentage must be more than 0% and at most 100%, got NaN%",
      "-3; \"-3\": a count must be at least 1, got -3"})
  void badTextIsNamed(String text, String message) {
    assertThatThrownBy(() -> Quantity.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }
}
