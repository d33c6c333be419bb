package dev.basalt.fleet.server.web;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * HTML output. Every value from the database or the request goes through {@link #esc}; the templates are Java text
 * blocks whose only dynamic parts are escaped values or fragments built here.
 */
final class Html {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  private Html() {}

  /** Escapes text for element content and double- or single-quoted attribute values. */
  static String esc(Object value) {
    if (value == null) return "";
    String s = value.toString();
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String r = switch (c) {
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '&' -> "&amp;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (r == null && c < 0x20 && c != '\n' && c != '\t' && c != '\r') r = "\uFFFD"; // control chars: not valid HTML text
      if (r != null) {
        if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        sb.append(r);
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? s : sb.toString();
  }

  /** A URL path segment: percent-encodes everything but unreserved characters (then it is safe in attributes too). */
  static String seg(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** {@code sha256:0123456789ab} — the first 12 hex digits, the full digest in a tooltip. */
  static String digest(String d) {
    if (d == null) return "<span class=\"muted\">—</span>";
    String hex = d.startsWith("sha256:") ? d.substring(7) : d;
    String shortHex = hex.length() > 12 ? hex.substring(0, 12) : hex;
    return "<code class=\"digest\" title=\"" + esc(d) + "\">" + esc(shortHex) + "</code>";
  }

  static String formatTime(Instant t) {
    return TIME.format(t);
  }

  static String time(Instant t) {
    return t == null ? "<span class=\"muted\">never</span>" : "<time datetime=\"" + esc(t) + "\">" + esc(TIME.format(t)) + "</time>";
  }

  /** "12 s ago", "3 min ago"... relative to {@code now}, the exact time in the tooltip. */
  static String ago(Instant t, Instant now) {
    if (t == null) return "<span class=\"muted\">never</span>";
    long s = Math.max(0, Duration.between(t, now).getSeconds());
    String rel = s < 60 ? s + " s ago" : s < 3600 ? s / 60 + " min ago" : s < 86400 ? s / 3600 + " h ago" : s / 86400 + " d ago";
    return "<time datetime=\"" + esc(t) + "\" title=\"" + esc(TIME.format(t)) + "\">" + esc(rel) + "</time>";
  }

  /** A coloured pill; {@code kind} picks the colour class (a fixed word chosen by the caller, still escaped). */
  static String badge(String kind, Object text) {
    return "<span class=\"badge b-" + esc(kind) + "\">" + esc(text) + "</span>";
  }

  /** The colour of a health or state word. */
  static String tone(String word) {
    if (word == null) return "none";
    return switch (word.toLowerCase(Locale.ROOT)) {
      case "healthy", "active", "succeeded", "running", "idle", "staged", "released" -> "ok";
      case "degraded", "pending", "paused", "waiting_approval", "reverting", "downloading", "ready", "revert_released" -> "warn";
      case "unhealthy", "failed", "revoked", "aborted", "reverted" -> "bad";
      default -> "none";
    };
  }

  /** A form's hidden CSRF field. */
  static String csrf(String token) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(token) + "\">";
  }
}
