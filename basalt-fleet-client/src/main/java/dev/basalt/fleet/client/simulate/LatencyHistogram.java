package dev.basalt.fleet.client.simulate;

import java.util.concurrent.atomic.AtomicLongArray;

/** Lock-free latency histogram: logarithmic buckets of 2 % width from 1 µs to about 20 min. */
final class LatencyHistogram {
  private static final double BASE = Math.log(1.02);
  private static final int BUCKETS = 1100;
  private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

  void record(long nanos) {
    long us = Math.max(1, nanos / 1000);
    counts.incrementAndGet((int) Math.min(BUCKETS - 1, Math.round(Math.log(us) / BASE)));
  }

  long count() {
    long n = 0;
    for (int i = 0; i < BUCKETS; i++) n += counts.get(i);
    return n;
  }

  /** The latency (ms) below which a share {@code q} (0..1) of the samples lie; 0 without samples. */
  double quantileMillis(double q) {
    long total = count();
    if (total == 0) return 0;
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts.get(i);
      if (seen >= rank && counts.get(i) > 0) return Math.pow(1.02, i) / 1000.0;
    }
    return Math.pow(1.02, BUCKETS - 1) / 1000.0;
  }
}
