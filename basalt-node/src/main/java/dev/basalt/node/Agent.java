package dev.basalt.node;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * The node agent ({@code basalt agent}, run by {@code basalt-agent.service}): after boot it
 * reconciles the state with what booted ({@link Node#reconcile()}: health, blessing, a fallback's
 * failed digest), then polls the {@link UpdateSource} on a jittered timer and acts per
 * {@link AgentPolicy}. The update itself is the {@link Updater}'s; the agent only decides when.
 */
public final class Agent {
  /** What one poll did. */
  public enum Outcome {
    NO_TARGET, NOT_SETTLED, UP_TO_DATE, FAILED_BEFORE, DOWNLOADED, STAGED_REBOOTING,
    /** Staged; the source does not allow the reboot yet. */
    STAGED_WAITING,
    /** The reference resolves to another digest than the source pinned: nothing is staged. */
    DIGEST_MISMATCH
  }

  private final Node node;
  private final Updater updater;
  private final AgentPolicy policy;
  private final UpdateSource source;
  private final Clock clock;
  private final RandomGenerator random;
  private final Consumer<String> log;

  public Agent(Node node, Updater updater, AgentPolicy policy, UpdateSource source, Clock clock, RandomGenerator random,
      Consumer<String> log) {
    this.node = Objects.requireNonNull(node, "node");
    this.updater = Objects.requireNonNull(updater, "updater");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.source = Objects.requireNonNull(source, "source");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    this.log = Objects.requireNonNull(log, "log");
  }

  /** Reconciles after boot and says what booted, its health, and what failed here. */
  public NodeStatus afterBoot() throws IOException {
    NodeStatus s = node.status();
    Deployment b = s.booted();
    log.accept("reconciled: booted slot " + (b == null ? "?" : b.slot() + " (" + Node.describe(b) + "), health "
        + b.health().name().toLowerCase(java.util.Locale.ROOT))
        + (s.staged() != null ? "; staged slot " + s.staged().slot() : "")
        + (s.rollback() != null ? "; rollback slot " + s.rollback().slot() : "")
        + (s.failedDigests().isEmpty() ? "" : "; failed here: " + String.join(", ", s.failedDigests()))
        + (s.lastError() == null ? "" : "; " + s.lastError()));
    source.report(s);
    return s;
  }

  /** One poll: asks the source, checks the registry, then downloads or stages (and reboots) per policy. */
  public Outcome poll() throws IOException {
    NodeStatus s = node.status();
    try {
      Optional<UpdateSource.Target> target = source.desired(s);
      if (target.isEmpty()) {
        log.accept("nothing to follow: no image configured and none recorded for the booted deployment");
        return Outcome.NO_TARGET;
      }
      Health h = s.booted() == null ? Health.UNKNOWN : s.booted().health();
      if (h == Health.PENDING || h == Health.UNHEALTHY) {
        // A trial boot still being judged (or failing) must end first: staging now would race the fallback.
        log.accept("the booted deployment is " + h.name().toLowerCase(java.util.Locale.ROOT) + ": not updating now");
        return Outcome.NOT_SETTLED;
      }
      UpdateSource.Target t = target.get();
      String ref = t.ref();
      CheckResult c = updater.check(ref);
      if (t.digest() != null && !t.digest().equals(c.manifestDigest())) {
        log.accept(ref + " is " + c.manifestDigest() + ", not the assigned " + t.digest() + ": not staged");
        return Outcome.DIGEST_MISMATCH;
      }
      if (c.failedBefore()) {
        log.accept(ref + " is " + c.manifestDigest() + ", which failed to boot here before: not staged");
        return Outcome.FAILED_BEFORE;
      }
      if (t.digest() != null && t.digest().equals(c.stagedDigest()) && !t.digest().equals(c.bootedDigest())) {
        if (!t.rebootAllowed()) {
          log.accept(t.digest() + " is staged; waiting until a reboot is allowed");
          return Outcome.STAGED_WAITING;
        }
        log.accept(t.digest() + " is staged and a reboot is allowed now; rebooting");
        node.environment().rebooter().reboot();
        return Outcome.STAGED_REBOOTING;
      }
      if (!c.updateAvailable()) {
        log.accept("up to date: " + ref + " is " + c.manifestDigest());
        return Outcome.UP_TO_DATE;
      }
      boolean stage = switch (policy.mode()) {
        case APPLY -> true;
        case DOWNLOAD_ONLY -> false;
        case WINDOW -> policy.window().contains(LocalTime.now(clock.withZone(ZoneOffset.UTC)));
      };
      if (!stage) {
        UpdateResult r = updater.download(ref);
        log.accept("downloaded " + r.manifestDigest() + " (" + r.bytesDownloaded() + " bytes)"
            + (policy.mode() == AgentPolicy.Mode.WINDOW ? "; staging waits for the window " + policy.window().start()
                + "-" + policy.window().end() + " UTC" : "; mode download-only: not staged"));
        return Outcome.DOWNLOADED;
      }
      UpdateResult r = updater.stage(ref);
      if (!t.rebootAllowed()) {
        log.accept("staged " + r.manifestDigest() + " in slot " + r.deployment().slot() + " (" + r.bytesDownloaded()
            + " bytes downloaded); no reboot allowed yet");
        return Outcome.STAGED_WAITING;
      }
      log.accept("staged " + r.manifestDigest() + " in slot " + r.deployment().slot() + " (" + r.bytesDownloaded()
          + " bytes downloaded); rebooting");
      node.environment().rebooter().reboot();
      return Outcome.STAGED_REBOOTING;
    } finally {
      source.report(node.status());
    }
  }

  /** The wait before the next poll: the interval plus a random share of the jitter (spreads a fleet's polls). */
  public Duration nextWait() {
    long j = policy.jitter().toMillis();
    return policy.interval().plusMillis(j == 0 ? 0 : random.nextLong(j + 1));
  }

  /** {@link #afterBoot()}, then polls forever; a failed poll is logged and retried at the next tick. */
  public void run() throws IOException, InterruptedException {
    afterBoot();
    while (true) {
      if (source.paced()) {
        // the source's long poll waits for changes; a short random pause spreads a fleet's requests after one
        Thread.sleep(random.nextLong(1001));
      } else {
        Duration w = nextWait();
        log.accept("next poll in " + w.toSeconds() + " s");
        Thread.sleep(w.toMillis());
      }
      try {
        if (poll() == Outcome.STAGED_REBOOTING) return;
      } catch (IOException | RuntimeException e) {
        log.accept("poll failed: " + e.getMessage());
      }
    }
  }
}
