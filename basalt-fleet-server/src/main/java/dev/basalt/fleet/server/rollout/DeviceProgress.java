package dev.basalt.fleet.server.rollout;

import com.fasterxml.jackson.annotation.JsonFormat;
import java.time.Instant;
import java.util.Objects;

/**
 * One device's place in a rollout; written as a JSON array {@code [wave, stage, since]} to keep the state of a
 * large fleet small.
 *
 * @param wave its wave (0-based)
 * @param stage where it is
 * @param since when it entered that stage
 */
@JsonFormat(shape = JsonFormat.Shape.ARRAY)
public record DeviceProgress(int wave, DeviceStage stage, Instant since) {
  public DeviceProgress {
    if (wave < 0) throw new IllegalArgumentException("wave must not be negative, got " + wave);
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(since, "since");
  }

  DeviceProgress to(DeviceStage s, Instant now) {
    return new DeviceProgress(wave, s, now);
  }
}
