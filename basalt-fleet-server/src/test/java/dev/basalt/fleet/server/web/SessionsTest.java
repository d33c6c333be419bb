package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SessionsTest {
  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-05-01T00:00:00Z"));
  final Sessions sessions = new Sessions(now::get, Duration.ofHours(1), Duration.ofHours(8));

  @Test
  void sessionsExpireWhenIdleAndAfterTheirAbsoluteLifetime() {
    Sessions.Session s = sessions.create("hash");
    assertThat(s.id()).startsWith("s_").hasSizeGreaterThan(40);
    assertThat(s.csrf()).isNotEqualTo(s.id());
    for (int i = 0; i < 8; i++) {
      now.set(now.get().plus(Duration.ofMinutes(59)));
      assertThat(sessions.find(s.id())).as("used within the idle time").isPresent();
    }
    now.set(now.get().plus(Duration.ofMinutes(59)));
    assertThat(sessions.find(s.id())).as("past 8 h").isEmpty();
    Sessions.Session idle = sessions.create("hash");
    now.set(now.get().plus(Duration.ofMinutes(61)));
    assertThat(sessions.find(idle.id())).as("idle over 1 h").isEmpty();
    assertThat(sessions.find(null)).isEmpty();
  }

  @Test
  void csrfTokensMustMatchExactly() {
    Sessions.Session s = sessions.create("hash");
    assertThat(Sessions.csrfMatches(s, s.csrf())).isTrue();
    assertThat(Sessions.csrfMatches(s, s.csrf() + "x")).isFalse();
    assertThat(Sessions.csrfMatches(s, null)).isFalse();
    assertThat(Sessions.csrfMatches(s, sessions.create("hash").csrf())).isFalse();
  }
}
