package dev.basalt.fleet.server.http;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/** The server's Prometheus metrics, exposition text format 0.0.4 written here (no metrics library needed). */
public final class Metrics {
  private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  final LongAdder checkins = new LongAdder();
  final LongAdder statusReports = new LongAdder();
  final Map<String, LongAdder> enrollments = new ConcurrentHashMap<>();
  private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
  private final Supplier<Map<String, Long>> devicesByState;

  public Metrics(Supplier<Map<String, Long>> devicesByState) {
    this.devicesByState = devicesByState;
    for (String r : new String[] {"pending", "approved", "rejected"}) enrollments.put(r, new LongAdder());
  }

  private static final class Histogram {
    final AtomicLongArray counts = new AtomicLongArray(BUCKETS.length + 1);
    final LongAdder sumNanos = new LongAdder();
  }

  void enrollment(String result) {
    enrollments.get(result).increment();
  }

  public void observe(String listener, String method, String route, int status, long nanos) {
    String key = "listener=\"" + listener + "\",method=\"" + method + "\",route=\"" + route + "\",code=\"" + status + "\"";
    Histogram h = latency.computeIfAbsent(key, k -> new Histogram());
    double s = nanos / 1e9;
    int i = 0;
    while (i < BUCKETS.length && s > BUCKETS[i]) i++;
    h.counts.incrementAndGet(i);
    h.sumNanos.add(nanos);
  }

  /** The exposition text. */
  public String scrape() {
    StringBuilder sb = new StringBuilder();
    sb.append("# HELP basalt_fleet_checkins_total Desired-state polls answered to authenticated devices.\n");
    sb.append("# TYPE basalt_fleet_checkins_total counter\n");
    sb.append("basalt_fleet_checkins_total ").append(checkins.sum()).append('\n');
    sb.append("# HELP basalt_fleet_status_reports_total Status reports recorded.\n");
    sb.append("# TYPE basalt_fleet_status_reports_total counter\n");
    sb.append("basalt_fleet_status_reports_total ").append(statusReports.sum()).append('\n');
    sb.append("# HELP basalt_fleet_enrollments_total Enrollment requests by result.\n");
    sb.append("# TYPE basalt_fleet_enrollments_total counter\n");
    new java.util.TreeMap<>(enrollments).forEach((k, v) ->
        sb.append("basalt_fleet_enrollments_total{result=\"").append(k).append("\"} ").append(v.sum()).append('\n'));
    sb.append("# HELP basalt_fleet_devices Devices by state.\n");
    sb.append("# TYPE basalt_fleet_devices gauge\n");
    devicesByState.get().forEach((k, v) -> sb.append("basalt_fleet_devices{state=\"").append(k).append("\"} ").append(v).append('\n'));
    sb.append("# HELP basalt_fleet_http_request_duration_seconds HTTP request latency.\n");
    sb.append("# TYPE basalt_fleet_http_request_duration_seconds histogram\n");
    new java.util.TreeMap<>(latency).forEach((labels, h) -> {
      long cum = 0;
      for (int i = 0; i <= BUCKETS.length; i++) {
        cum += h.counts.get(i);
        String le = i < BUCKETS.length ? String.format(Locale.ROOT, "%s", BUCKETS[i]) : "+Inf";
        sb.append("basalt_fleet_http_request_duration_seconds_bucket{").append(labels).append(",le=\"").append(le).append("\"} ").append(cum).append('\n');
      }
      sb.append("basalt_fleet_http_request_duration_seconds_sum{").append(labels).append("} ")
          .append(String.format(Locale.ROOT, "%.6f", h.sumNanos.sum() / 1e9)).append('\n');
      sb.append("basalt_fleet_http_request_duration_seconds_count{").append(labels).append("} ").append(cum).append('\n');
    });
    return sb.toString();
  }
}
