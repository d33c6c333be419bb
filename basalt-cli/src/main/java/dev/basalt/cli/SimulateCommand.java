package dev.basalt.cli;

import dev.basalt.api.ApiJson;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.client.simulate.Stats;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = {"N virtual devices speaking the real device protocol to a fleet server (enrollment with a CSR, mTLS,",
        "long-poll, status reports), following their desired state: download, stage, reboot when allowed, boot healthy",
        "or, with --failure-rate, fail the trial and fall back. Runs until interrupted, --duration or --exit-when-booted;",
        "--check-ins runs the check-in benchmark instead."})
final class SimulateCommand implements Callable<Integer> {
  @Option(names = "--devices", required = true, description = "How many devices.") int devices;

  @Option(names = "--server", required = true, paramLabel = "URL", description = "The device API, https://HOST:8443.") URI server;

  @Option(names = "--enrollment-token", paramLabel = "TOKEN", description = "Enrollment token (bet_...); or --enrollment-token-file.")
  String enrollmentToken;

  @Option(names = "--enrollment-token-file", paramLabel = "FILE", description = "File holding the enrollment token.") Path enrollmentTokenFile;

  @Option(names = "--ca", paramLabel = "FILE", description = "The fleet CA (PEM); default: fetched from the admin API (needs --approve-token).")
  Path ca;

  @Option(names = "--failure-rate", defaultValue = "0", description = "Share of boot trials that fail, 0..1 (default ${DEFAULT-VALUE}).")
  double failureRate;

  @Option(names = "--seed", defaultValue = "1", description = "Which devices fail is a function of this seed (default ${DEFAULT-VALUE}).") long seed;

  @Option(names = "--approve-token", paramLabel = "ADMIN_TOKEN",
      description = "Approve pending devices with this admin token (default $BASALT_FLEET_TOKEN when the token does not auto-approve).")
  String approveToken;

  @Option(names = "--admin-url", paramLabel = "URL", description = "The admin API (default $BASALT_FLEET_URL, else http://HOST:8080).")
  URI adminUrl;

  @Option(names = "--identities", paramLabel = "DIR", description = "Cache of enrolled identities (reused by later runs against the same CA).")
  Path identities;

  @Option(names = "--name-prefix", defaultValue = "sim-", description = "Device names: prefix + 6-digit index (default ${DEFAULT-VALUE}).")
  String namePrefix;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Labels the devices claim (default simulated=true).")
  java.util.List<String> labels;

  @Option(names = "--download-time", defaultValue = "2s", description = "Simulated download time (default ${DEFAULT-VALUE}).") String downloadTime;

  @Option(names = "--reboot-time", defaultValue = "1s", description = "Simulated reboot time (default ${DEFAULT-VALUE}).") String rebootTime;

  @Option(names = "--poll-wait", defaultValue = "30s", description = "Long-poll hold asked of the server (default ${DEFAULT-VALUE}).") String pollWait;

  @Option(names = "--enroll-concurrency", defaultValue = "16", description = "Parallel enrollments (default ${DEFAULT-VALUE}).") int enrollConcurrency;

  @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long (default: until interrupted).") String duration;

  @Option(names = "--exit-when-booted", paramLabel = "DIGEST", description = "Exit once every device booted (or failed) this digest.")
  String exitWhenBooted;

  @Option(names = "--check-ins", paramLabel = "DURATION", description = "Benchmark: check-ins (poll, report) for this long, over --connection.")
  String checkIns;

  @Option(names = "--concurrency", defaultValue = "64", description = "With --check-ins: check-ins in flight (default ${DEFAULT-VALUE}).") int concurrency;

  @Option(names = "--connection", defaultValue = "full",
      description = "With --check-ins: keep-alive (each device keeps one connection, opened in a warm-up pass before"
          + " the timing), resumed (a new connection per check-in resuming the device's TLS session) or full (a new"
          + " connection and a full TLS handshake per check-in; default ${DEFAULT-VALUE}).")
  String connection;

  @Option(names = "--format", defaultValue = "table", description = "table or json: how the final figures are printed.") String format;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  static Duration duration(String s, String flag) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(s.strip());
    if (!m.matches()) throw new IllegalArgumentException(flag + " must be a number with ms, s, m or h (e.g. 30s), got '" + s + "'");
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) throw new IllegalArgumentException("--format must be table or json, got '" + format + "'");
    java.util.List<Simulator.Connection> conns = new java.util.ArrayList<>();
    for (String c : connection.split(",")) {
      conns.add(switch (c.strip()) {
        case "keep-alive" -> Simulator.Connection.KEEP_ALIVE;
        case "resumed" -> Simulator.Connection.RESUMED;
        case "full" -> Simulator.Connection.FULL_HANDSHAKE;
        default -> throw new IllegalArgumentException("--connection must be keep-alive, resumed or full (or a comma list), got '" + c + "'");
      });
    }
    if ((enrollmentToken == null) == (enrollmentTokenFile == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give one of --enrollment-token and --enrollment-token-file");
    }
    String token = enrollmentToken != null ? enrollmentToken : Files.readString(enrollmentTokenFile, StandardCharsets.UTF_8).strip();
    String admin = approveToken != null ? approveToken : FleetOptions.env.apply("BASALT_FLEET_TOKEN");
    AdminClient adminClient = null;
    if (admin != null) {
      URI url = adminUrl;
      if (url == null && FleetOptions.env.apply("BASALT_FLEET_URL") != null) url = URI.create(FleetOptions.env.apply("BASALT_FLEET_URL"));
      if (url == null) url = URI.create("http://" + server.getHost() + ":8080");
      adminClient = new AdminClient(url, admin.strip());
    }
    String caPem;
    if (ca != null) caPem = Files.readString(ca, StandardCharsets.US_ASCII);
    else if (adminClient != null) caPem = adminClient.caCertificate();
    else throw new CommandLine.ParameterException(spec.commandLine(), "give --ca FILE (the fleet CA), or --approve-token to fetch it from the admin API");
    Simulator.Builder b = Simulator.builder().server(server).caCertificate(caPem).enrollmentToken(token).devices(devices)
        .failureRate(failureRate).seed(seed).namePrefix(namePrefix)
        .timing(duration(downloadTime, "--download-time"), duration(rebootTime, "--reboot-time"))
        .pollWait(duration(pollWait, "--poll-wait")).enrollment(enrollConcurrency, Duration.ofMinutes(10))
        .log(m -> System.err.println("simulate: " + m));
    if (labels != null) b.labels(FleetCommand.labelArgs(labels, "--label"));
    if (identities != null) b.identities(identities);
    if (adminClient != null) b.approveWith(adminClient);
    try (Simulator sim = b.build()) {
      long t0 = System.nanoTime();
      int fresh = sim.enroll();
      System.err.printf("simulate: %d devices ready (%d enrolled now, %d from the cache) in %.1f s%n", devices, fresh, devices - fresh,
          (System.nanoTime() - t0) / 1e9);
      if (checkIns != null) {
        boolean ok = true;
        for (Simulator.Connection conn : conns) {
          if (conn == Simulator.Connection.KEEP_ALIVE && sim.openConnections() < devices) {
            Stats w = sim.checkInEach(concurrency, conn);
            System.err.printf("simulate: warm-up: %d connections opened (%d check-ins, %d errors) in %.1f s%n", sim.openConnections(),
                w.operations(), w.errors(), w.elapsed().toMillis() / 1000.0);
          }
          Stats s = sim.checkIns(duration(checkIns, "--check-ins"), concurrency, conn);
          print(s, conn);
          ok &= s.operations() > 0;
        }
        return ok ? 0 : 1;
      }
      sim.start();
      long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration(duration, "--duration").toNanos();
      long nextPrint = System.nanoTime() + 10_000_000_000L;
      while (System.nanoTime() < end) {
        if (exitWhenBooted != null && sim.awaitBooted(exitWhenBooted, Duration.ofMillis(200), true)) {
          System.err.println("simulate: every device booted or failed " + exitWhenBooted + "; failed: " + sim.failedCount(exitWhenBooted));
          break;
        }
        if (exitWhenBooted == null) Thread.sleep(200);
        if (System.nanoTime() > nextPrint) {
          System.err.println("simulate: booted " + sim.bootedCounts() + "; " + sim.stats());
          nextPrint += 10_000_000_000L;
        }
      }
      print(sim.stats(), null);
      return 0;
    }
  }

  private void print(Stats s, Simulator.Connection conn) {
    if (format.equals("json")) {
      Map<String, Object> m = new java.util.LinkedHashMap<>(Map.of("devices", s.devices(), "operations", s.operations(),
          "perSecond", Math.round(s.perSecond()), "p50Millis", s.p50Millis(), "p99Millis", s.p99Millis(),
          "requests", s.requests(), "errors", s.errors(), "seconds", s.elapsed().toMillis() / 1000.0));
      if (conn != null) m.put("connection", conn.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      // One line per run, so that several runs (--connection a,b) read as JSON lines.
      System.out.println(ApiJson.mapper().writeValueAsString(m));
    } else {
      System.out.println((conn == null ? "" : conn.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ": ") + s);
    }
  }
}
