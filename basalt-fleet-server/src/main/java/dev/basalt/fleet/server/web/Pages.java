package dev.basalt.fleet.server.web;

import static dev.basalt.fleet.server.web.Html.ago;
import static dev.basalt.fleet.server.web.Html.badge;
import static dev.basalt.fleet.server.web.Html.digest;
import static dev.basalt.fleet.server.web.Html.esc;
import static dev.basalt.fleet.server.web.Html.seg;
import static dev.basalt.fleet.server.web.Html.time;
import static dev.basalt.fleet.server.web.Html.tone;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.fleet.server.rollout.RolloutEvent;
import dev.basalt.fleet.server.store.RolloutStore;
import dev.basalt.fleet.server.store.RolloutStore.RolloutEventRecord;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.web.FleetUi.UiError;
import dev.basalt.fleet.server.web.FleetUi.Viewer;
import io.helidon.webserver.http.ServerRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationFeature;

/** The pages. Each returns a whole HTML document; every dynamic value is escaped by {@link Html}. */
final class Pages {
  static final int MAX_DEVICES = 500;
  static final Duration OFFLINE_AFTER = Duration.ofMinutes(10);
  private static final ObjectWriter COMPACT = ApiJson.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
  private static final String NONE = "(no fleet)";

  static final int MAX_EVENTS = 200;
  private final Store store;
  private final RolloutStore rollouts;
  private final WebQueries q;

  Pages(Store store, RolloutStore rollouts, WebQueries q) {
    this.store = store;
    this.rollouts = rollouts;
    this.q = q;
  }

  // ---- layout

  private String layout(Viewer v, String title, String nav, String body) {
    StringBuilder sb = new StringBuilder(body.length() + 2048);
    sb.append("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>""").append(esc(title)).append(" · Basalt fleet</title>\n").append("""
        <link rel="stylesheet" href="/static/app.css"><link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
        <script src="/static/app.js" defer></script></head>
        <body><header class="top"><a class="brand" href="/"><span class="logo">◆</span> Basalt fleet</a><nav>
        """);
    if (v != null) {
      long pending = q.pendingCount();
      link(sb, "/", "Fleets", nav.equals("fleets"));
      link(sb, "/versions", "Versions", nav.equals("versions"));
      link(sb, "/rollouts", "Rollouts", nav.equals("rollouts"));
      link(sb, "/devices", "Devices", nav.equals("devices"));
      sb.append("<a href=\"/enrollments\"").append(nav.equals("enrollments") ? " class=\"on\"" : "").append(">Approvals");
      if (pending > 0) sb.append(" <span class=\"count\" id=\"pending-count\">").append(pending).append("</span>");
      sb.append("</a>");
    }
    sb.append("</nav>");
    if (v != null) {
      sb.append("<div class=\"who\"><span title=\"scopes: ").append(esc(String.join(", ", v.token().scopes()))).append("\">")
          .append(esc(v.token().name())).append("</span><form method=\"post\" action=\"/logout\">")
          .append(Html.csrf(v.session().csrf())).append("<button class=\"link\" type=\"submit\">Sign out</button></form></div>");
    }
    sb.append("</header>\n<main>").append(body).append("</main></body></html>\n");
    return sb.toString();
  }

  private static void link(StringBuilder sb, String href, String text, boolean on) {
    sb.append("<a href=\"").append(href).append("\"").append(on ? " class=\"on\"" : "").append(">").append(text).append("</a>");
  }

  String login(String next, String problem) {
    String body = """
        <section class="login"><h1>Sign in</h1>
        <p class="muted">Paste an admin token (<code>bst_…</code>). Reading needs scope <code>fleet:read</code>,
        approving devices <code>devices:approve</code>.</p>
        """ + (problem == null ? "" : "<p class=\"alert\" role=\"alert\">" + esc(problem) + "</p>") + """
        <form method="post" action="/login" autocomplete="off">
        <input type="hidden" name="next" value=\"""" + esc(next) + """
        "><label>Admin token <input type="password" name="token" id="token" required autofocus spellcheck="false"></label>
        <button type="submit" id="sign-in">Sign in</button></form></section>
        """;
    return layout(null, "Sign in", "", body);
  }

  String error(Viewer v, int status, String message) {
    String title = switch (status) {
      case 403 -> "Forbidden";
      case 404 -> "Not found";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 400 -> "Bad request";
      default -> "Error";
    };
    return layout(v, title, "", "<section class=\"error\"><h1>" + status + " " + esc(title) + "</h1><p class=\"alert\" role=\"alert\">"
        + esc(message) + "</p><p><a href=\"/\">Back to the fleets</a></p></section>");
  }

  // ---- fleets

  /** Counts of one kind (digest or health) per fleet name ({@link #NONE} for devices in no fleet). */
  private static Map<String, Map<String, Long>> byFleet(List<WebQueries.Count> counts) {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    for (WebQueries.Count c : counts) {
      out.computeIfAbsent(c.fleet() == null ? NONE : c.fleet(), k -> new TreeMap<>(Comparator.nullsLast(Comparator.naturalOrder())))
          .merge(c.value(), c.count(), Long::sum);
    }
    return out;
  }

  String fleets(ServerRequest req, Viewer v) {
    List<FleetInfo> fleets = store.fleets();
    Map<String, Map<String, Long>> digests = byFleet(q.digestCounts());
    Map<String, Map<String, Long>> health = byFleet(q.healthCounts());
    Map<String, RolloutView> rollouts = new LinkedHashMap<>();
    for (RolloutStore.RolloutRecord r : this.rollouts.recent(200)) if (r.active()) rollouts.putIfAbsent(r.fleet(), RolloutView.of(r));
    long active = 0, unhealthy = 0;
    for (Map<String, Long> m : health.values()) {
      for (var e : m.entrySet()) {
        active += e.getValue();
        if ("unhealthy".equals(e.getKey()) || "failed".equals(e.getKey())) unhealthy += e.getValue();
      }
    }
    long onTarget = 0, members = 0;
    for (FleetInfo f : fleets) {
      members += f.members();
      if (f.spec().targetDigest() != null) onTarget += digests.getOrDefault(f.spec().name(), Map.of()).getOrDefault(f.spec().targetDigest(), 0L);
    }
    StringBuilder b = new StringBuilder();
    b.append("<div class=\"head\"><h1>Fleets</h1>");
    if (!fleets.isEmpty()) {
      b.append("<label class=\"picker\">Fleet <select id=\"fleet-select\" data-nav><option value=\"\">choose…</option>");
      for (FleetInfo f : fleets) {
        b.append("<option value=\"/fleets/").append(esc(seg(f.spec().name()))).append("\">").append(esc(f.spec().name())).append("</option>");
      }
      b.append("</select></label>");
    }
    b.append("</div>");
    b.append("<div class=\"cards\">");
    card(b, "Fleets", fleets.size(), null);
    card(b, "Active devices", active, null);
    card(b, "On target", onTarget + " / " + members, null);
    card(b, "Unhealthy", unhealthy, unhealthy > 0 ? "bad" : null);
    long pending = q.pendingCount();
    b.append("<a class=\"card").append(pending > 0 ? " warn" : "").append("\" href=\"/enrollments\"><span class=\"n\">")
        .append(pending).append("</span><span class=\"l\">Pending approvals</span></a>");
    b.append("</div>");
    if (fleets.isEmpty()) {
      b.append("<p class=\"empty\">No fleets yet. Create one with <code>basalt fleet create</code> or <code>POST /api/v1/fleets</code>.</p>");
    } else {
      b.append("<table class=\"grid\" id=\"fleets\"><thead><tr><th>Fleet</th><th>Selector</th><th>Target</th><th class=\"num\">Members</th>"
          + "<th>On target</th><th>Health</th><th>Versions</th><th>Rollout</th></tr></thead><tbody>");
      for (FleetInfo f : fleets) {
        String name = f.spec().name();
        Map<String, Long> dg = digests.getOrDefault(name, Map.of());
        long on = f.spec().targetDigest() == null ? 0 : dg.getOrDefault(f.spec().targetDigest(), 0L);
        b.append("<tr data-fleet=\"").append(esc(name)).append("\"><td><a href=\"/fleets/").append(esc(seg(name))).append("\"><b>")
            .append(esc(name)).append("</b></a></td><td><code>").append(f.spec().selector().isEmpty() ? "<span class=\"muted\">all</span>" : esc(f.spec().selector()))
            .append("</code></td><td>").append(target(f.spec().targetRef(), f.spec().targetDigest())).append("</td><td class=\"num\">")
            .append(f.members()).append("</td><td>").append(progress(on, f.members())).append("</td><td>")
            .append(healthBadges(health.getOrDefault(name, Map.of()))).append("</td><td>").append(versionList(dg, f.spec().targetDigest()))
            .append("</td><td>");
        RolloutView r = rollouts.get(name);
        if (r == null) {
          b.append("<span class=\"muted\">—</span>");
        } else {
          b.append("<a href=\"/rollouts/").append(esc(seg(r.id()))).append("\">").append(badge(tone(r.phase()), phase(r.phase())))
              .append(" ").append(r.succeededWaves()).append("/").append(r.waveCount()).append(" waves done</a>");
        }
        b.append("</td></tr>");
      }
      b.append("</tbody></table>");
    }
    if (digests.containsKey(NONE)) {
      long n = digests.get(NONE).values().stream().mapToLong(Long::longValue).sum();
      b.append("<p class=\"muted\">").append(n).append(" active device(s) belong to no fleet — <a href=\"/devices?fleet=").append(esc(seg(NONE)))
          .append("\">show them</a>.</p>");
    }
    return layout(v, "Fleets", "fleets", b.toString());
  }

  private static void card(StringBuilder b, String label, Object n, String tone) {
    b.append("<div class=\"card").append(tone == null ? "" : " " + tone).append("\"><span class=\"n\">").append(esc(n))
        .append("</span><span class=\"l\">").append(esc(label)).append("</span></div>");
  }

  private static String target(String ref, String dg) {
    if (dg == null) return "<span class=\"muted\">none</span>";
    return "<span class=\"ref\">" + esc(ref) + "</span> " + digest(dg);
  }

  private static String progress(long value, long max) {
    if (max <= 0) return "<span class=\"muted\">—</span>";
    long pct = Math.round(100.0 * value / max);
    return "<span class=\"prog\"><progress max=\"" + max + "\" value=\"" + value + "\"></progress> " + value + " <span class=\"muted\">("
        + pct + "%)</span></span>";
  }

  private static String healthBadges(Map<String, Long> h) {
    if (h.isEmpty()) return "<span class=\"muted\">—</span>";
    StringBuilder b = new StringBuilder("<span class=\"badges\">");
    for (var e : h.entrySet()) {
      String word = e.getKey() == null ? "unreported" : e.getKey();
      b.append(badge(tone(word), word + " " + e.getValue())).append(' ');
    }
    return b.append("</span>").toString();
  }

  private static String versionList(Map<String, Long> dg, String target) {
    if (dg.isEmpty()) return "<span class=\"muted\">—</span>";
    StringBuilder b = new StringBuilder("<ul class=\"versions\">");
    dg.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(4).forEach(e -> {
      b.append("<li").append(e.getKey() != null && e.getKey().equals(target) ? " class=\"target\"" : "").append(">")
          .append(e.getKey() == null ? "<span class=\"muted\">unreported</span>" : digest(e.getKey())).append(" <b>").append(e.getValue())
          .append("</b></li>");
    });
    if (dg.size() > 4) b.append("<li class=\"muted\">+").append(dg.size() - 4).append(" more</li>");
    return b.append("</ul>").toString();
  }

  private static String phase(String p) {
    return p.toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  String fleet(ServerRequest req, Viewer v) {
    String name = req.path().pathParameters().get("name");
    FleetInfo f = store.fleet(name).orElseThrow(() -> new UiError(404, "fleet " + name + " does not exist"));
    Map<String, Long> dg = byFleet(q.digestCounts()).getOrDefault(name, Map.of());
    Map<String, Long> health = byFleet(q.healthCounts()).getOrDefault(name, Map.of());
    String target = f.spec().targetDigest();
    StringBuilder b = new StringBuilder();
    b.append("<div class=\"head\"><h1><span class=\"muted\">Fleet</span> <span id=\"fleet-name\">").append(esc(name)).append("</span></h1>")
        .append("<a class=\"button\" href=\"/devices?fleet=").append(esc(seg(name))).append("\">Devices</a></div>");
    b.append("<table class=\"kv\"><tbody>");
    kv(b, "Selector", f.spec().selector().isEmpty() ? "<span class=\"muted\">all devices</span>" : "<code>" + esc(f.spec().selector()) + "</code>");
    kv(b, "Target", target(f.spec().targetRef(), target));
    kv(b, "Members", Integer.toString(f.members()));
    kv(b, "On target", progress(target == null ? 0 : dg.getOrDefault(target, 0L), f.members()));
    kv(b, "Health", healthBadges(health));
    kv(b, "Policy", f.spec().policy() == null ? "<span class=\"muted\">default</span>" : "<code>" + esc(COMPACT.writeValueAsString(new TreeMap<>(f.spec().policy()))) + "</code>");
    kv(b, "Updated", time(f.updatedAt()));
    b.append("</tbody></table>");
    b.append("<h2>Versions</h2><table class=\"grid\" id=\"fleet-versions\"><thead><tr><th>Booted digest</th><th class=\"num\">Devices</th><th>Share</th><th></th></tr></thead><tbody>");
    long total = dg.values().stream().mapToLong(Long::longValue).sum();
    dg.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).forEach(e -> {
      b.append("<tr><td>").append(e.getKey() == null ? "<span class=\"muted\">unreported</span>" : digest(e.getKey())).append("</td><td class=\"num\">")
          .append(e.getValue()).append("</td><td>").append(progress(e.getValue(), total)).append("</td><td>")
          .append(e.getKey() != null && e.getKey().equals(target) ? badge("ok", "target") : "").append("</td></tr>");
    });
    if (dg.isEmpty()) b.append("<tr><td colspan=\"4\" class=\"empty\">No active members.</td></tr>");
    b.append("</tbody></table>");
    rolloutTable(b, rollouts.rollouts(name, 50));
    return layout(v, "Fleet " + name, "fleets", b.toString());
  }

  private static void kv(StringBuilder b, String k, String htmlValue) {
    b.append("<tr><th>").append(esc(k)).append("</th><td>").append(htmlValue).append("</td></tr>");
  }

  // ---- versions

  String versions(ServerRequest req, Viewer v) {
    Map<String, Map<String, Long>> byFleet = byFleet(q.digestCounts());
    Map<String, String> targets = new TreeMap<>();
    for (FleetInfo f : store.fleets()) {
      byFleet.computeIfAbsent(f.spec().name(), k -> new TreeMap<>());
      if (f.spec().targetDigest() != null) targets.put(f.spec().name(), f.spec().targetDigest());
    }
    TreeSet<String> digests = new TreeSet<>(Comparator.nullsLast(Comparator.naturalOrder()));
    byFleet.values().forEach(m -> digests.addAll(m.keySet()));
    Map<String, Long> totals = new LinkedHashMap<>();
    for (String d : digests) totals.put(d, byFleet.values().stream().mapToLong(m -> m.getOrDefault(d, 0L)).sum());
    List<String> order = new ArrayList<>(digests);
    order.sort(Comparator.comparing((String d) -> -totals.get(d)).thenComparing(Comparator.nullsLast(Comparator.<String>naturalOrder())));
    long all = totals.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder b = new StringBuilder("<div class=\"head\"><h1>Versions across the fleet</h1></div>");
    if (order.isEmpty()) {
      b.append("<p class=\"empty\">No active device has reported a booted image yet.</p>");
      return layout(v, "Versions", "versions", b.toString());
    }
    b.append("<table class=\"grid\" id=\"versions\"><thead><tr><th>Booted digest</th><th class=\"num\">Devices</th><th>Share</th>");
    for (String f : byFleet.keySet()) b.append("<th class=\"num\">").append(esc(f)).append("</th>");
    b.append("</tr></thead><tbody>");
    for (String d : order) {
      b.append("<tr><td>").append(d == null ? "<span class=\"muted\">unreported</span>" : digest(d)).append("</td><td class=\"num\"><b>")
          .append(totals.get(d)).append("</b></td><td>").append(progress(totals.get(d), all)).append("</td>");
      for (String f : byFleet.keySet()) {
        long n = byFleet.get(f).getOrDefault(d, 0L);
        boolean isTarget = d != null && d.equals(targets.get(f));
        b.append("<td class=\"num").append(isTarget ? " target" : "").append("\"").append(isTarget ? " title=\"target of " + esc(f) + "\"" : "")
            .append(">").append(n == 0 ? "<span class=\"muted\">·</span>" : Long.toString(n)).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</tbody></table><p class=\"muted\">Highlighted cells: the fleet's target digest.</p>");
    return layout(v, "Versions", "versions", b.toString());
  }

  // ---- rollouts

  String rollouts(ServerRequest req, Viewer v) {
    StringBuilder b = new StringBuilder("<div class=\"head\"><h1>Rollouts</h1></div>");
    rolloutTable(b, rollouts.recent(200));
    return layout(v, "Rollouts", "rollouts", b.toString());
  }

  private static void rolloutTable(StringBuilder b, List<RolloutStore.RolloutRecord> rows) {
    b.append("<h2>Rollouts</h2>");
    if (rows.isEmpty()) {
      b.append("<p class=\"empty\">No rollouts.</p>");
      return;
    }
    b.append("<table class=\"grid\" id=\"rollouts\"><thead><tr><th>Rollout</th><th>Fleet</th><th>Phase</th><th>Waves done</th>"
        + "<th class=\"num\">Devices</th><th>Target</th><th>Updated</th></tr></thead><tbody>");
    for (RolloutStore.RolloutRecord r : rows) {
      RolloutView rv = RolloutView.of(r);
      b.append("<tr").append(r.active() ? "" : " class=\"inactive\"").append("><td><a href=\"/rollouts/").append(esc(seg(r.id()))).append("\">")
          .append(esc(r.id())).append("</a></td><td><a href=\"/fleets/").append(esc(seg(r.fleet()))).append("\">").append(esc(r.fleet()))
          .append("</a></td><td>").append(badge(tone(rv.phase()), phase(rv.phase()))).append("</td><td>")
          .append(progress(rv.succeededWaves(), rv.waveCount())).append("</td><td class=\"num\">").append(rv.devices()).append("</td><td>")
          .append(target(rv.targetRef(), rv.targetDigest())).append("</td><td>").append(time(r.updatedAt())).append("</td></tr>");
    }
    b.append("</tbody></table>");
  }

  /** An event as the page and the stream show it; its id is its seq (gapless within the rollout). */
  static Map<String, Object> eventFields(RolloutEvent e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.seq());
    m.put("time", Html.formatTime(e.time()));
    m.put("type", e.type().name());
    m.put("wave", e.wave() == null ? "" : e.wave().toString());
    m.put("device", e.deviceId() == null ? "" : e.deviceId());
    m.put("message", e.message());
    return m;
  }

  /** The rollout's newest {@code limit} events, oldest first (seqs are gapless, so no descending query is needed). */
  static List<RolloutEvent> newestEvents(RolloutStore rollouts, RolloutStore.RolloutRecord r, int limit) {
    return rollouts.events(r.id(), Math.max(0, r.state().eventSeq() - limit), limit);
  }

  String rollout(ServerRequest req, Viewer v) {
    String id = req.path().pathParameters().get("id");
    RolloutStore.RolloutRecord row = rollouts.rollout(id).orElseThrow(() -> new UiError(404, "rollout " + id + " does not exist"));
    RolloutView r = RolloutView.of(row);
    List<RolloutEvent> events = newestEvents(rollouts, row, MAX_EVENTS);
    long last = events.isEmpty() ? 0 : events.getLast().seq();
    StringBuilder b = new StringBuilder();
    b.append("<section id=\"rollout\" data-stream=\"/rollouts/").append(esc(seg(id))).append("/stream\" data-last-event=\"").append(last).append("\">");
    b.append("<div class=\"head\"><h1><span class=\"muted\">Rollout</span> ").append(esc(id)).append("</h1>")
        .append("<span id=\"phase\" class=\"badge big b-").append(tone(r.phase())).append("\" data-field=\"phase\">").append(esc(phase(r.phase())))
        .append("</span><span id=\"live\" class=\"live off\" title=\"live updates\">connecting…</span></div>");
    b.append("<table class=\"kv\"><tbody>");
    kv(b, "Fleet", "<a href=\"/fleets/" + esc(seg(r.fleet())) + "\">" + esc(r.fleet()) + "</a>" + (row.active() ? "" : " " + badge("none", "inactive")));
    kv(b, "Target", target(r.targetRef(), r.targetDigest()));
    kv(b, "Previous", target(r.previousRef(), r.previousDigest()));
    kv(b, "Waves", "<span id=\"waves-done\">" + r.succeededWaves() + "</span> of " + r.waveCount() + " succeeded, <span id=\"waves-released\">"
        + r.releasedWaves() + "</span> released");
    kv(b, "Reason", "<span id=\"reason\">" + (r.reason() == null ? "—" : esc(r.reason())) + "</span>");
    kv(b, "Updated", time(row.updatedAt()));
    b.append("</tbody></table>");
    b.append("<h2>Waves</h2><table class=\"grid waves\" id=\"waves\"><thead><tr><th>Wave</th><th>Status</th><th class=\"num\">Devices</th><th>Succeeded</th>");
    for (String s : RolloutView.STAGES) b.append("<th class=\"num stage\">").append(esc(stageLabel(s))).append("</th>");
    b.append("</tr></thead><tbody>");
    for (RolloutView.Wave w : r.waves()) {
      b.append("<tr data-wave-row=\"").append(w.index()).append("\"><td>").append(w.index())
          .append("</td><td><span class=\"badge b-").append(waveTone(w.status())).append("\" data-wave=\"").append(w.index())
          .append("\" data-field=\"status\">").append(w.status()).append("</span></td><td class=\"num\" data-wave=\"").append(w.index())
          .append("\" data-field=\"devices\">").append(w.devices()).append("</td><td><progress data-wave=\"").append(w.index())
          .append("\" data-field=\"progress\" max=\"").append(Math.max(1, w.devices())).append("\" value=\"").append(w.counts().getOrDefault("SUCCEEDED", 0))
          .append("\"></progress></td>");
      for (String s : RolloutView.STAGES) {
        int n = w.counts().getOrDefault(s, 0);
        b.append("<td class=\"num st-").append(s.toLowerCase(Locale.ROOT)).append(n == 0 ? " zero" : "").append("\" data-wave=\"").append(w.index())
            .append("\" data-stage=\"").append(s).append("\">").append(n).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</tbody><tfoot><tr><th>All</th><td></td><td class=\"num\" id=\"total-devices\">").append(r.devices()).append("</td><td></td>");
    for (String s : RolloutView.STAGES) {
      b.append("<td class=\"num\" data-total=\"").append(s).append("\">").append(r.totals().getOrDefault(s, 0)).append("</td>");
    }
    b.append("</tr></tfoot></table>");
    b.append("<h2>Events <span class=\"muted small\">newest first</span></h2><table class=\"grid events\" id=\"events\"><thead><tr><th>Time</th><th>Event</th>"
        + "<th class=\"num\">Wave</th><th>Device</th><th>Message</th></tr></thead><tbody>");
    for (RolloutEvent e : events.reversed()) eventRow(b, eventFields(e));
    b.append("</tbody></table></section>");
    return layout(v, "Rollout " + id, "rollouts", b.toString());
  }

  private static void eventRow(StringBuilder b, Map<String, Object> e) {
    String type = String.valueOf(e.get("type"));
    b.append("<tr data-event-id=\"").append(esc(e.get("id"))).append("\"><td>").append(esc(e.get("time"))).append("</td><td><span class=\"ev ev-")
        .append(esc(eventTone(type))).append("\">").append(esc(type)).append("</span></td><td class=\"num\">").append(esc(e.get("wave")))
        .append("</td><td>");
    String dev = String.valueOf(e.get("device"));
    if (!dev.isEmpty()) b.append("<a href=\"/devices/").append(esc(seg(dev))).append("\">").append(esc(dev)).append("</a>");
    b.append("</td><td>").append(esc(e.get("message"))).append("</td></tr>");
  }

  /** Colour of an event type: the same rule as app.js. */
  static String eventTone(String type) {
    String t = type.toUpperCase(Locale.ROOT);
    if (t.contains("FAIL") || t.contains("ABORT") || t.contains("EXCEEDED")) return "bad";
    if (t.contains("REVERT") || t.contains("PAUSE") || t.contains("WAIT") || t.contains("WITHDRAWN")) return "warn";
    if (t.contains("SUCCEEDED") || t.contains("APPROVED")) return "ok";
    return "none";
  }

  private static String waveTone(String status) {
    return switch (status) {
      case "done" -> "ok";
      case "active" -> "info";
      default -> "none";
    };
  }

  private static String stageLabel(String s) {
    return s.equals("REVERT_RELEASED") ? "revert rel." : s.toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  // ---- devices

  String devices(ServerRequest req, Viewer v) {
    String text = req.query().first("q").orElse("").strip();
    String stateParam = req.query().first("state").orElse("");
    String fleet = req.query().first("fleet").orElse("");
    String health = req.query().first("health").orElse("");
    String selectorText = req.query().first("selector").orElse("").strip();
    DeviceState state = stateParam.isEmpty() ? null : DeviceState.ofWireName(stateParam);
    LabelSelector selector = selectorText.isEmpty() ? null : LabelSelector.parse(selectorText);
    boolean noFleet = fleet.equals(NONE);
    List<DeviceInfo> all = store.devices(state, fleet.isEmpty() || noFleet ? null : fleet, selector, 100_000, 0);
    String needle = text.toLowerCase(Locale.ROOT);
    List<DeviceInfo> matching = all.stream()
        .filter(d -> !noFleet || d.fleet() == null)
        .filter(d -> health.isEmpty() || health.equals(d.health() == null ? "unreported" : wire(d.health())))
        .filter(d -> needle.isEmpty() || d.id().contains(needle) || d.name().toLowerCase(Locale.ROOT).contains(needle)
            || d.labels().entrySet().stream().anyMatch(e -> (e.getKey() + "=" + e.getValue()).toLowerCase(Locale.ROOT).contains(needle)))
        .toList();
    StringBuilder b = new StringBuilder("<div class=\"head\"><h1>Devices</h1></div>");
    b.append("<form class=\"filters\" method=\"get\" action=\"/devices\" id=\"device-filter\">")
        .append("<input type=\"search\" name=\"q\" placeholder=\"name, id or label\" value=\"").append(esc(text)).append("\">")
        .append(select("state", stateParam, List.of("", "pending", "active", "revoked", "decommissioned"), "any state"))
        .append(select("fleet", fleet, fleetNames(), "any fleet"))
        .append(select("health", health, List.of("", "healthy", "degraded", "unhealthy", "failed", "pending", "unknown", "unreported"), "any health"))
        .append("<input type=\"text\" name=\"selector\" placeholder=\"selector, e.g. site=lab\" value=\"").append(esc(selectorText)).append("\">")
        .append("<button type=\"submit\">Filter</button> <a href=\"/devices\">clear</a></form>");
    b.append("<p class=\"muted\" id=\"device-count\">").append(matching.size()).append(matching.size() == 1 ? " device" : " devices");
    if (matching.size() > MAX_DEVICES) b.append(", showing the first ").append(MAX_DEVICES);
    b.append("</p>");
    deviceTable(b, matching.subList(0, Math.min(MAX_DEVICES, matching.size())), store.now());
    return layout(v, "Devices", "devices", b.toString());
  }

  private List<String> fleetNames() {
    List<String> names = new ArrayList<>();
    names.add("");
    store.fleets().forEach(f -> names.add(f.spec().name()));
    names.add(NONE);
    return names;
  }

  private static String select(String name, String value, List<String> options, String anyLabel) {
    StringBuilder b = new StringBuilder("<select name=\"").append(esc(name)).append("\">");
    for (String o : options) {
      b.append("<option value=\"").append(esc(o)).append("\"").append(o.equals(value) ? " selected" : "").append(">")
          .append(o.isEmpty() ? esc(anyLabel) : esc(o)).append("</option>");
    }
    return b.append("</select>").toString();
  }

  static String wire(Enum<?> e) {
    String j = ApiJson.mapper().writeValueAsString(e);
    return j.substring(1, j.length() - 1);
  }

  private static void deviceTable(StringBuilder b, List<DeviceInfo> devices, Instant now) {
    if (devices.isEmpty()) {
      b.append("<p class=\"empty\">No devices match.</p>");
      return;
    }
    b.append("<table class=\"grid\" id=\"devices\"><thead><tr><th>Name</th><th>ID</th><th>State</th><th>Fleet</th><th>Health</th>"
        + "<th>Booted</th><th>Staged</th><th>Phase</th><th>Last seen</th><th>Labels</th></tr></thead><tbody>");
    for (DeviceInfo d : devices) {
      boolean offline = d.state() == DeviceState.ACTIVE && (d.lastSeen() == null || d.lastSeen().plus(OFFLINE_AFTER).isBefore(now));
      String health = d.health() == null ? null : wire(d.health());
      b.append("<tr data-device=\"").append(esc(d.id())).append("\"><td><a href=\"/devices/").append(esc(seg(d.id()))).append("\">")
          .append(esc(d.name())).append("</a></td><td><code class=\"id\">").append(esc(d.id())).append("</code></td><td>")
          .append(badge(tone(d.state().wireName()), d.state().wireName())).append("</td><td>")
          .append(d.fleet() == null ? (d.membershipError() == null ? "<span class=\"muted\">—</span>" : badge("bad", "conflict"))
              : "<a href=\"/fleets/" + esc(seg(d.fleet())) + "\">" + esc(d.fleet()) + "</a>")
          .append("</td><td>").append(health == null ? "<span class=\"muted\">—</span>" : badge(tone(health), health)).append("</td><td>")
          .append(digest(d.bootedDigest())).append("</td><td>").append(digest(d.stagedDigest())).append("</td><td>")
          .append(d.updatePhase() == null ? "<span class=\"muted\">—</span>" : esc(wire(d.updatePhase()))).append("</td><td")
          .append(offline ? " class=\"stale\"" : "").append(">").append(ago(d.lastSeen(), now)).append("</td><td>").append(labels(d.labels()))
          .append("</td></tr>");
    }
    b.append("</tbody></table>");
  }

  private static String labels(Map<String, String> labels) {
    StringBuilder b = new StringBuilder("<span class=\"labels\">");
    new TreeMap<>(labels).forEach((k, val) -> b.append("<span class=\"label\">").append(esc(k)).append("=").append(esc(val)).append("</span>"));
    return b.append("</span>").toString();
  }

  String device(ServerRequest req, Viewer v) {
    String id = req.path().pathParameters().get("id");
    DeviceInfo d = store.device(id).orElseThrow(() -> new UiError(404, "device " + id + " does not exist")).info();
    Instant now = store.now();
    StringBuilder b = new StringBuilder();
    b.append("<div class=\"head\"><h1><span class=\"muted\">Device</span> <span id=\"device-name\">").append(esc(d.name())).append("</span></h1>")
        .append(badge(tone(d.state().wireName()), d.state().wireName()));
    if (d.state() == DeviceState.PENDING && v.can(FleetUi.APPROVE)) b.append(approvalButtons(v, d.id(), "/devices/" + seg(d.id())));
    b.append("</div><div class=\"cols\"><div>");
    b.append("<h2>Identity</h2><table class=\"kv\"><tbody>");
    kv(b, "ID", "<code>" + esc(d.id()) + "</code>");
    kv(b, "Labels", labels(d.labels()));
    kv(b, "Fleet", d.fleet() == null ? "<span class=\"muted\">none</span>" : "<a href=\"/fleets/" + esc(seg(d.fleet())) + "\">" + esc(d.fleet()) + "</a>");
    if (d.membershipError() != null) kv(b, "Membership", "<span class=\"alert inline\">" + esc(d.membershipError()) + "</span>");
    kv(b, "Enrolled", time(d.enrolledAt()));
    kv(b, "Certificate", d.certificateSerial() == null ? "<span class=\"muted\">none</span>"
        : "<code>" + esc(d.certificateSerial()) + "</code>, expires " + time(d.certificateExpires()));
    kv(b, "Last seen", ago(d.lastSeen(), now));
    b.append("</tbody></table></div><div><h2>Status</h2><table class=\"kv\"><tbody>");
    String health = d.health() == null ? null : wire(d.health());
    kv(b, "Health", health == null ? "<span class=\"muted\">unreported</span>" : badge(tone(health), health));
    kv(b, "Booted", digest(d.bootedDigest()) + (d.slot() == null ? "" : " <span class=\"muted\">slot " + esc(d.slot()) + "</span>"));
    kv(b, "Staged", digest(d.stagedDigest()));
    kv(b, "Update phase", d.updatePhase() == null ? "<span class=\"muted\">—</span>" : esc(wire(d.updatePhase())));
    kv(b, "Downloaded", esc(humanBytes(d.bytesDownloaded())));
    kv(b, "Last error", d.lastError() == null ? "<span class=\"muted\">none</span>" : "<span class=\"alert inline\">" + esc(d.lastError()) + "</span>");
    StringBuilder failed = new StringBuilder();
    for (String f : d.failedDigests()) failed.append(digest(f)).append(' ');
    kv(b, "Failed digests", d.failedDigests().isEmpty() ? "<span class=\"muted\">none</span>" : failed.toString());
    var want = d.desired();
    kv(b, "Desired", want == null || want.digest() == null ? "<span class=\"muted\">nothing assigned</span>"
        : "<span class=\"ref\">" + esc(want.imageRef()) + "</span> " + digest(want.digest()) + (want.rebootAllowed() ? " " + badge("ok", "reboot allowed") : " " + badge("none", "stage only"))
            + " <span class=\"muted\">rev " + want.revision() + "</span>");
    b.append("</tbody></table></div></div>");
    b.append("<h2>History</h2>");
    record Item(Instant time, String kind, String what, String who, String details) {}
    List<Item> items = new ArrayList<>();
    for (AuditEntry a : q.auditOf("device:" + d.id(), 100)) {
      items.add(new Item(a.time(), "audit", a.action(), a.actor(), a.details() == null || a.details().isEmpty() ? "" : COMPACT.writeValueAsString(a.details())));
    }
    for (RolloutEventRecord e : rollouts.deviceEvents(d.id(), 100)) {
      items.add(new Item(e.event().time(), "rollout", e.event().type().name(), e.rolloutId(), e.event().message()));
    }
    items.sort(Comparator.comparing(Item::time, Comparator.nullsLast(Comparator.naturalOrder())).reversed());
    if (items.isEmpty()) {
      b.append("<p class=\"empty\">Nothing recorded yet.</p>");
    } else {
      b.append("<table class=\"grid\" id=\"history\"><thead><tr><th>Time</th><th>Kind</th><th>What</th><th>By / rollout</th><th>Details</th></tr></thead><tbody>");
      for (Item i : items) {
        b.append("<tr><td>").append(time(i.time())).append("</td><td>").append(esc(i.kind())).append("</td><td><span class=\"ev ev-")
            .append(eventTone(i.what())).append("\">").append(esc(i.what())).append("</span></td><td>");
        if (i.kind().equals("rollout")) {
          b.append("<a href=\"/rollouts/").append(esc(seg(i.who()))).append("\">").append(esc(i.who())).append("</a>");
        } else {
          b.append(esc(i.who()));
        }
        b.append("</td><td class=\"details\">").append(esc(i.details())).append("</td></tr>");
      }
      b.append("</tbody></table>");
    }
    return layout(v, "Device " + d.name(), "devices", b.toString());
  }

  static String humanBytes(long n) {
    if (n < 1024) return n + " B";
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double x = n;
    int u = -1;
    while (x >= 1024 && u < units.length - 1) {
      x /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", x, units[u]);
  }

  private static String approvalButtons(Viewer v, String id, String back) {
    String path = "/devices/" + esc(seg(id));
    return "<span class=\"actions\"><form method=\"post\" action=\"" + path + "/approve\">" + Html.csrf(v.session().csrf())
        + "<button type=\"submit\" class=\"ok\" data-approve=\"" + esc(id) + "\">Approve</button></form>"
        + "<form method=\"post\" action=\"" + path + "/reject\" data-confirm=\"Reject this device? Its enrollment is revoked.\">"
        + Html.csrf(v.session().csrf()) + "<button type=\"submit\" class=\"bad\" data-reject=\"" + esc(id) + "\">Reject</button></form></span>";
  }

  // ---- approvals

  String enrollments(ServerRequest req, Viewer v) {
    List<DeviceInfo> pending = store.devices(DeviceState.PENDING, null, null, MAX_DEVICES, 0);
    Instant now = store.now();
    StringBuilder b = new StringBuilder("<div class=\"head\"><h1>Enrollment approvals</h1></div>");
    req.query().first("approved").ifPresent(id -> b.append("<p class=\"notice\" role=\"status\" id=\"notice\">Approved device <code>")
        .append(esc(id)).append("</code>: it receives its certificate at its next ask.</p>"));
    req.query().first("rejected").ifPresent(id -> b.append("<p class=\"notice warn\" role=\"status\" id=\"notice\">Rejected device <code>")
        .append(esc(id)).append("</code>.</p>"));
    if (!v.can(FleetUi.APPROVE)) {
      b.append("<p class=\"muted\">Your token lacks scope <code>devices:approve</code>: you can see pending devices but not approve them.</p>");
    }
    if (pending.isEmpty()) {
      b.append("<p class=\"empty\" id=\"no-pending\">No device is waiting for approval.</p>");
      return layout(v, "Approvals", "enrollments", b.toString());
    }
    b.append("<table class=\"grid\" id=\"pending\"><thead><tr><th>Name</th><th>ID</th><th>Labels</th><th>Enrolled</th><th>Fleet (by labels)</th>"
        + "<th></th></tr></thead><tbody>");
    for (DeviceInfo d : pending) {
      b.append("<tr data-device=\"").append(esc(d.id())).append("\"><td><a href=\"/devices/").append(esc(seg(d.id()))).append("\">")
          .append(esc(d.name())).append("</a></td><td><code class=\"id\">").append(esc(d.id())).append("</code></td><td>").append(labels(d.labels()))
          .append("</td><td>").append(ago(d.enrolledAt(), now)).append("</td><td>")
          .append(d.fleet() == null ? "<span class=\"muted\">—</span>" : esc(d.fleet())).append("</td><td>")
          .append(v.can(FleetUi.APPROVE) ? approvalButtons(v, d.id(), "/enrollments") : "").append("</td></tr>");
    }
    b.append("</tbody></table>");
    return layout(v, "Approvals", "enrollments", b.toString());
  }
}
