package dev.basalt.fleet.server;

import dev.basalt.fleet.server.http.Metrics;
import io.helidon.webserver.http.Filter;

/** Times every request into the latency histogram. */
final class LatencyFilter {
  private LatencyFilter() {}

  static Filter of(Metrics metrics, String listener) {
    return (chain, req, res) -> {
      long t0 = System.nanoTime();
      try {
        chain.proceed();
      } finally {
        metrics.observe(listener, req.prologue().method().text(), req.matchingPattern().orElse("unmatched"),
            res.status().code(), System.nanoTime() - t0);
      }
    };
  }
}
