package dev.basalt.node;

import dev.basalt.api.UpdatePhase;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Progress for tools: one JSON object per line, flushed, e.g.
 * <pre>
 * {"time":"2026-01-01T00:00:00Z","type":"phase","phase":"downloading","detail":"2 of 3 layers missing"}
 * {"time":"...","type":"progress","task":"layer sha256:ab..","done":1048576,"total":4194304}
 * {"time":"...","type":"info","message":"..."}
 * </pre>
 * Progress lines of one task are thinned to one per 1% (and always the last).
 */
public final class JsonLinesListener implements UpdateListener {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final PrintStream out;
  private final Clock clock;
  private final Map<String, Long> lastPercent = new HashMap<>();

  public JsonLinesListener(OutputStream out) {
    this(out, Clock.systemUTC());
  }

  JsonLinesListener(OutputStream out, Clock clock) {
    this.out = new PrintStream(out, false, StandardCharsets.UTF_8);
    this.clock = clock;
  }

  @Override
  public void phase(UpdatePhase phase, String detail) {
    emit(Map.of("type", "phase", "phase", JSON.valueToTree(phase).asString(), "detail", detail == null ? "" : detail));
  }

  @Override
  public void progress(String task, long done, long total) {
    if (total > 0 && done < total) {
      long pct = done * 100 / total;
      Long last = lastPercent.put(task, pct);
      if (last != null && last == pct) return;
    }
    emit(Map.of("type", "progress", "task", task, "done", done, "total", total));
  }

  @Override
  public void info(String message) {
    emit(Map.of("type", "info", "message", message));
  }

  private synchronized void emit(Map<String, Object> fields) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("time", clock.instant().toString());
    fields.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> m.put(e.getKey(), e.getValue()));
    out.println(JSON.writeValueAsString(m));
    out.flush();
  }
}
