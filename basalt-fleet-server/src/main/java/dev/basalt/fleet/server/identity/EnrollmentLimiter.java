package dev.basalt.fleet.server.identity;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows enrollment-token guessing: after {@code maxFailures} bad tokens from one source address within {@code window},
 * that address is refused (429) until the oldest failure leaves the window.
 */
public final class EnrollmentLimiter {
  private final int maxFailures;
  private final Duration window;
  private final Clock clock;
  private final ConcurrentHashMap<String, Deque<Long>> failures = new ConcurrentHashMap<>();

  public EnrollmentLimiter(int maxFailures, Duration window, Clock clock) {
    this.maxFailures = maxFailures;
    this.window = window;
    this.clock = clock;
  }

  /** Seconds until {@code source} may try again; 0 when it may now. */
  public long blockedForSeconds(String source) {
    Deque<Long> d = failures.get(source);
    if (d == null) return 0;
    synchronized (d) {
      prune(d);
      if (d.size() < maxFailures) return 0;
      return Math.max(1, (d.peekFirst() + window.toMillis() - clock.millis() + 999) / 1000);
    }
  }

  /** Notes one bad token from {@code source}. */
  public void failed(String source) {
    if (failures.size() > 100_000) failures.clear(); // bounded memory under a spray of addresses
    Deque<Long> d = failures.computeIfAbsent(source, k -> new ArrayDeque<>());
    synchronized (d) {
      prune(d);
      d.addLast(clock.millis());
    }
  }

  private void prune(Deque<Long> d) {
    long cutoff = clock.millis() - window.toMillis();
    while (!d.isEmpty() && d.peekFirst() <= cutoff) d.removeFirst();
  }
}
