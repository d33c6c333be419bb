package dev.basalt.fleet.server.web;

import dev.basalt.api.ApiJson;
import dev.basalt.fleet.server.rollout.RolloutEvent;
import dev.basalt.fleet.server.store.RolloutStore;
import io.helidon.http.Status;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationFeature;

/**
 * {@code GET /rollouts/{id}/stream}: Server-Sent Events with the rollout's summary whenever it changes. Each
 * connection polls the rollout's {@link RolloutStore.Revision} every {@link #POLL} (so it also sees changes made by
 * another replica) and sends a {@code state} event, with the events added since the last one, only when it moved. The
 * SSE id is the last rollout event's seq, so a reconnecting EventSource resumes without gaps. A connection ends after {@link #MAX_AGE}
 * (the browser reconnects), when the session ends, or when the browser goes away.
 */
final class RolloutStream {
  static final Duration POLL = Duration.ofMillis(250);
  static final Duration MAX_AGE = Duration.ofMinutes(10);
  private static final Duration KEEPALIVE = Duration.ofSeconds(15);
  private static final Duration RECHECK_SESSION = Duration.ofSeconds(5);
  private static final ObjectWriter JSON = ApiJson.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);

  private final RolloutStore rollouts;
  private final Function<ServerRequest, Optional<FleetUi.Viewer>> viewer;

  RolloutStream(RolloutStore rollouts, Function<ServerRequest, Optional<FleetUi.Viewer>> viewer) {
    this.rollouts = rollouts;
    this.viewer = viewer;
  }

  void handle(ServerRequest req, ServerResponse res) {
    FleetUi.Viewer v = viewer.apply(req).orElse(null);
    if (v == null || !v.can(FleetUi.READ)) {
      res.status(v == null ? Status.UNAUTHORIZED_401 : Status.FORBIDDEN_403).header("Content-Type", "text/plain; charset=utf-8")
          .send(v == null ? "not signed in" : "lacks scope " + FleetUi.READ);
      return;
    }
    String id = req.path().pathParameters().get("id");
    if (rollouts.revision(id).isEmpty()) {
      res.status(Status.NOT_FOUND_404).header("Content-Type", "text/plain; charset=utf-8").send("no rollout " + id);
      return;
    }
    long lastEvent = parseLastEventId(req.headers().first(io.helidon.http.HeaderNames.create("Last-Event-ID")).orElse(null));
    res.header("Cache-Control", "no-store");
    res.header("X-Accel-Buffering", "no");
    long start = System.nanoTime();
    long lastSent = start;
    long lastSessionCheck = start;
    RolloutStore.Revision seen = null;
    try (SseSink sink = res.sink(SseSink.TYPE)) {
      while (System.nanoTime() - start < MAX_AGE.toNanos()) {
        long now = System.nanoTime();
        if (now - lastSessionCheck > RECHECK_SESSION.toNanos()) {
          if (viewer.apply(req).isEmpty()) {
            sink.emit(SseEvent.builder().name("signed-out").data("{}").build());
            return;
          }
          lastSessionCheck = now;
        }
        RolloutStore.Revision f = rollouts.revision(id).orElse(null);
        if (f == null) return; // rollout deleted
        if (!f.equals(seen)) {
          RolloutStore.RolloutRecord row = rollouts.rollout(id).orElse(null);
          if (row == null) return;
          // after a long absence only the newest page of events: the page keeps at most that many rows anyway
          List<RolloutEvent> events = rollouts.events(id, Math.max(lastEvent, row.state().eventSeq() - Pages.MAX_EVENTS), Pages.MAX_EVENTS);
          if (!events.isEmpty()) lastEvent = events.getLast().seq();
          sink.emit(SseEvent.builder().name("state").id(Long.toString(lastEvent)).data(snapshot(RolloutView.of(row), events)).build());
          seen = f;
          lastSent = now;
        } else if (now - lastSent > KEEPALIVE.toNanos()) {
          sink.emit(SseEvent.builder().comment("keep-alive").build());
          lastSent = now;
        }
        Thread.sleep(POLL);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the browser went away (write failed) or the server stops: nothing to answer any more
    }
  }

  private static long parseLastEventId(String s) {
    if (s == null) return 0;
    try {
      return Math.max(0, Long.parseLong(s.strip()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The JSON the page's script applies to the DOM (with textContent only). */
  static String snapshot(RolloutView r, List<RolloutEvent> events) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("phase", r.phase());
    m.put("tone", Html.tone(r.phase()));
    m.put("reason", r.reason());
    m.put("waveCount", r.waveCount());
    m.put("releasedWaves", r.releasedWaves());
    m.put("succeededWaves", r.succeededWaves());
    m.put("devices", r.devices());
    m.put("totals", r.totals());
    List<Map<String, Object>> waves = new ArrayList<>();
    for (RolloutView.Wave w : r.waves()) {
      Map<String, Object> wm = new LinkedHashMap<>();
      wm.put("index", w.index());
      wm.put("status", w.status());
      wm.put("devices", w.devices());
      wm.put("counts", w.counts());
      waves.add(wm);
    }
    m.put("waves", waves);
    List<Map<String, Object>> ev = new ArrayList<>();
    for (RolloutEvent e : events) ev.add(Pages.eventFields(e));
    m.put("events", ev);
    return JSON.writeValueAsString(m);
  }
}
