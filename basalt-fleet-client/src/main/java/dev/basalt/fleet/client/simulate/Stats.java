package dev.basalt.fleet.client.simulate;

import java.time.Duration;

/**
 * What a simulation measured.
 *
 * @param devices simulated devices
 * @param requests requests answered (polls, reports, enrollments)
 * @param errors requests that failed (connection, TLS, timeout or an error status)
 * @param elapsed measuring time
 * @param p50Millis median latency of a measured operation
 * @param p99Millis 99th percentile latency
 * @param operations measured operations (check-ins in {@link Simulator#checkIns}, reports otherwise)
 */
public record Stats(int devices, long requests, long errors, Duration elapsed, double p50Millis, double p99Millis,
    long operations) {
  /** Measured operations per second. */
  public double perSecond() {
    return elapsed.isZero() ? 0 : operations * 1e9 / elapsed.toNanos();
  }

  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "%d devices: %d operations in %.1f s = %.0f/s, p50 %.1f ms, p99 %.1f ms, %d requests, %d errors",
        devices, operations, elapsed.toMillis() / 1000.0, perSecond(), p50Millis, p99Millis, requests, errors);
  }
}
