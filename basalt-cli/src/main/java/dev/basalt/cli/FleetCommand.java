package dev.basalt.cli;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.AdminTokenInfo;
import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.DeviceUpdate;
import dev.basalt.api.fleet.EnrollmentTokenInfo;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.FleetClientException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.core.type.TypeReference;

@Command(name = "fleet", mixinStandardHelpOptions = true,
    description = {"Administer a fleet server over its REST API: devices, enrollment tokens, fleets, rollouts, admin",
        "tokens, audit log. Server and token: --server/--token-file, BASALT_FLEET_URL/BASALT_FLEET_TOKEN, or",
        "~/.config/basalt/fleet.toml (server = \"http://...\", token-file = \"...\")."},
    subcommands = {FleetCommand.Devices.class, FleetCommand.EnrollmentTokens.class, FleetCommand.Fleets.class,
        FleetCommand.Rollouts.class, FleetCommand.Tokens.class, FleetCommand.Audit.class, FleetCommand.Ca.class})
final class FleetCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)([smhd])");

  /** {@code 90m}, {@code 12h}, {@code 30d} from now; null for null. */
  static Instant expiry(String in) {
    if (in == null) return null;
    Matcher m = DURATION.matcher(in.strip());
    if (!m.matches()) throw new IllegalArgumentException("--expires-in must be a number with s, m, h or d (e.g. 30d), got '" + in + "'");
    long n = Long.parseLong(m.group(1));
    Duration d = switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
    return Instant.now().plus(d);
  }

  static Map<String, String> labelArgs(List<String> kvs, String what) {
    Map<String, String> m = new TreeMap<>();
    if (kvs == null) return m;
    for (String kv : kvs) {
      int eq = kv.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException(what + " must be KEY=VALUE, got '" + kv + "'");
      m.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return m;
  }

  static String time(Instant t) {
    return t == null ? null : t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  /** Writes a new secret to {@code file} (0600) or prints it: it is shown this once. */
  static void secret(PrintStream out, String what, String secret, Path file) throws IOException {
    if (file != null) {
      Files.deleteIfExists(file);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
      out.println(what + " written to " + file);
    } else {
      out.println(what + " (shown once, keep it safe): " + secret);
    }
  }

  // ---------------------------------------------------------------- devices

  @Command(name = "devices", mixinStandardHelpOptions = true, description = "List, show, approve, reject, label, revoke, decommission devices.",
      subcommands = {Devices.List_.class, Devices.Show.class, Devices.Approve.class, Devices.Reject.class, Devices.Label.class,
          Devices.Revoke.class, Devices.Decommission.class})
  static final class Devices implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    static void table(FleetOptions o, List<DeviceInfo> ds) {
      List<List<String>> rows = new ArrayList<>();
      for (DeviceInfo d : ds) {
        rows.add(List.of(d.id(), d.name(), d.state().wireName(), d.fleet() == null ? "" : d.fleet(), FleetOptions.labels(d.labels()),
            String.valueOf(FleetOptions.shortDigest(d.bootedDigest())), d.health() == null ? "" : d.health().name().toLowerCase(),
            d.updatePhase() == null ? "" : d.updatePhase().name().toLowerCase().replace('_', '-'), String.valueOf(time(d.lastSeen()))));
      }
      o.print(System.out, ds, List.of("ID", "NAME", "STATE", "FLEET", "LABELS", "BOOTED", "HEALTH", "PHASE", "LAST-SEEN"), rows);
    }

    static void one(FleetOptions o, DeviceInfo d) {
      if (o.json()) {
        System.out.println(ApiJson.write(d));
        return;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", d.id());
      m.put("name", d.name());
      m.put("state", d.state().wireName());
      m.put("labels", FleetOptions.labels(d.labels()));
      m.put("fleet", d.fleet());
      if (d.membershipError() != null) m.put("membership error", d.membershipError());
      m.put("booted", d.bootedDigest());
      m.put("slot", d.slot());
      m.put("staged", d.stagedDigest());
      m.put("health", d.health() == null ? null : d.health().name().toLowerCase());
      m.put("phase", d.updatePhase() == null ? null : d.updatePhase().name().toLowerCase().replace('_', '-'));
      m.put("last error", d.lastError());
      m.put("failed digests", String.join(", ", d.failedDigests()));
      m.put("desired", d.desired() == null || d.desired().digest() == null ? null
          : d.desired().imageRef() + "@" + d.desired().digest() + (d.desired().rebootAllowed() ? "" : " (stage only)"));
      m.put("last seen", time(d.lastSeen()));
      m.put("enrolled", time(d.enrolledAt()));
      m.put("certificate expires", time(d.certificateExpires()));
      List<List<String>> rows = new ArrayList<>();
      m.forEach((k, v) -> rows.add(List.of(k + ":", v == null ? "" : v.toString())));
      FleetOptions.table(System.out, List.of("", ""), rows.reversed().reversed());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List devices.")
    static final class List_ implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Option(names = "--state", description = "pending, active, revoked or decommissioned.") String state;
      @Option(names = "--fleet", description = "Only members of this fleet.") String fleet;
      @Option(names = "--selector", description = "Label selector, e.g. site=lab,tier in (canary).") String selector;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        table(o, c.devices(state == null ? null : DeviceState.ofWireName(state), fleet, selector));
        return 0;
      }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one device.")
    static final class Show implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID") String id;

      @Override
      public Integer call() throws Exception {
        one(o, o.client().device(id));
        return 0;
      }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve pending devices (issues their certificates).")
    static final class Approve implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) {
          DeviceInfo d = c.approve(id);
          if (o.json()) System.out.println(ApiJson.write(d));
          else System.out.println("approved " + d.id() + " (" + d.name() + ")");
        }
        return 0;
      }
    }

    @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject pending devices (they are decommissioned; their enrollment ends).")
    static final class Reject implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) {
          DeviceInfo d = c.device(id);
          if (d.state() != DeviceState.PENDING) {
            throw new IllegalArgumentException("device " + id + " is " + d.state().wireName() + ", not pending: use revoke or decommission");
          }
          c.decommission(id);
          System.out.println("rejected " + id + " (" + d.name() + ")");
        }
        return 0;
      }
    }

    @Command(name = "label", mixinStandardHelpOptions = true, description = "Set (KEY=VALUE) or remove (KEY-) labels of a device.")
    static final class Label implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(index = "0", paramLabel = "ID") String id;
      @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE|KEY-") List<String> changes;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        Map<String, String> labels = new TreeMap<>(c.device(id).labels());
        for (String ch : changes) {
          if (ch.endsWith("-") && !ch.contains("=")) labels.remove(ch.substring(0, ch.length() - 1));
          else labels.putAll(labelArgs(List.of(ch), "a label"));
        }
        one(o, c.updateDevice(id, new DeviceUpdate(null, labels)));
        return 0;
      }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke devices' certificates (every device call is refused).")
    static final class Revoke implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) System.out.println("revoked " + c.revoke(id).id());
        return 0;
      }
    }

    @Command(name = "decommission", mixinStandardHelpOptions = true, description = "Remove devices for good (kept as tombstones for the audit log).")
    static final class Decommission implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) {
          c.decommission(id);
          System.out.println("decommissioned " + id);
        }
        return 0;
      }
    }
  }

  // ---------------------------------------------------------------- enrollment tokens

  @Command(name = "enrollment-tokens", mixinStandardHelpOptions = true, description = "Create, list and revoke enrollment tokens (baked into images).",
      subcommands = {EnrollmentTokens.Create.class, EnrollmentTokens.List_.class, EnrollmentTokens.Revoke.class})
  static final class EnrollmentTokens implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an enrollment token; its secret is shown once.")
    static final class Create implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "NAME") String name;
      @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Label every device enrolling with it gets (repeatable).") List<String> labels;
      @Option(names = "--auto-approve", paramLabel = "SELECTOR", description = "Approve devices whose labels match at once ('' = all).") String autoApprove;
      @Option(names = "--expires-in", paramLabel = "DURATION", description = "e.g. 30d, 12h (default never).") String expiresIn;
      @Option(names = "--max-uses", defaultValue = "0", description = "Enrollments allowed (default 0 = unlimited).") int maxUses;
      @Option(names = "--secret-file", paramLabel = "FILE", description = "Write the secret to FILE (0600) instead of printing it.") Path secretFile;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        EnrollmentTokenInfo t = c.createEnrollmentToken(new EnrollmentTokenRequest(name, labelArgs(labels, "--label"), autoApprove, expiry(expiresIn), maxUses));
        if (o.json() && secretFile == null) {
          System.out.println(ApiJson.write(t));
        } else {
          System.out.println("created enrollment token " + t.id() + " (" + t.name() + ")");
          secret(System.out, "enrollment token", t.token(), secretFile);
        }
        return 0;
      }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List enrollment tokens (never their secrets).")
    static final class List_ implements Callable<Integer> {
      @Mixin FleetOptions o;

      @Override
      public Integer call() throws Exception {
        List<EnrollmentTokenInfo> ts = o.client().enrollmentTokens();
        List<List<String>> rows = new ArrayList<>();
        for (EnrollmentTokenInfo t : ts) {
          rows.add(List.of(t.id(), t.name(), FleetOptions.labels(t.labels()), t.autoApprove() == null ? "" : "'" + t.autoApprove() + "'",
              t.uses() + "/" + (t.maxUses() == 0 ? "unlimited" : t.maxUses()), String.valueOf(time(t.expiresAt())), time(t.createdAt())));
        }
        o.print(System.out, ts, List.of("ID", "NAME", "LABELS", "AUTO-APPROVE", "USES", "EXPIRES", "CREATED"), rows);
        return 0;
      }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke enrollment tokens (enrolled devices stay).")
    static final class Revoke implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) {
          c.revokeEnrollmentToken(id);
          System.out.println("revoked enrollment token " + id);
        }
        return 0;
      }
    }
  }

  // ---------------------------------------------------------------- fleets

  @Command(name = "fleets", mixinStandardHelpOptions = true, description = "Create, list, show fleets; set their target image (pinned by digest).",
      subcommands = {Fleets.Create.class, Fleets.List_.class, Fleets.Show.class, Fleets.SetTarget.class, Fleets.Delete.class})
  static final class Fleets implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    static void print(FleetOptions o, List<FleetInfo> fs) {
      List<List<String>> rows = new ArrayList<>();
      for (FleetInfo f : fs) {
        FleetSpec s = f.spec();
        rows.add(List.of(s.name(), s.selector().isEmpty() ? "(all)" : s.selector(), s.targetRef() == null ? "" : s.targetRef(),
            String.valueOf(FleetOptions.shortDigest(s.targetDigest())), String.valueOf(f.members()), time(f.updatedAt())));
      }
      o.print(System.out, fs.size() == 1 && o.json() ? fs.getFirst() : fs, List.of("NAME", "SELECTOR", "TARGET", "DIGEST", "MEMBERS", "UPDATED"), rows);
    }

    /** {@code ref} pinned: its own digest, or the registry's answer for its tag. */
    static String pin(String ref, RegistryFlags registry) throws IOException {
      if (ref.contains("@sha256:")) return ref;
      try (ImageSource src = Transports.openSource(RegistryFlags.parse(ref), registry.options(false))) {
        return ref + "@" + src.resolve(registry.platform()).digest();
      }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> policy(String json) {
      if (json == null) return null;
      try {
        return ApiJson.mapper().readValue(json, new TypeReference<Map<String, Object>>() {});
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--policy must be a JSON object: " + e.getMessage());
      }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a fleet.")
    static final class Create implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Mixin RegistryFlags registry;
      @Parameters(paramLabel = "NAME") String name;
      @Option(names = "--selector", defaultValue = "", description = "Label selector of its devices (default: every device).") String selector;
      @Option(names = "--target", paramLabel = "REF", description = "Target image; a tag is resolved and pinned by digest now.") String target;
      @Option(names = "--policy", paramLabel = "JSON", description = "Rollout policy (JSON object).") String policy;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        print(o, List.of(c.createFleet(new FleetSpec(name, selector, target == null ? null : pin(target, registry), null, policy(policy)))));
        return 0;
      }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List fleets.")
    static final class List_ implements Callable<Integer> {
      @Mixin FleetOptions o;

      @Override
      public Integer call() throws Exception {
        List<FleetInfo> fs = o.client().fleets();
        if (o.json()) System.out.println(ApiJson.write(fs));
        else print(o, fs);
        return 0;
      }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a fleet and its members.")
    static final class Show implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "NAME") String name;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        FleetInfo f = c.fleet(name);
        if (o.json()) {
          System.out.println(ApiJson.write(f));
          return 0;
        }
        print(o, List.of(f));
        if (f.spec().policy() != null) System.out.println("policy: " + ApiJson.mapper().writeValueAsString(f.spec().policy()).replaceAll("\\s+", " "));
        System.out.println();
        Devices.table(o, c.fleetDevices(name));
        return 0;
      }
    }

    @Command(name = "set-target", mixinStandardHelpOptions = true,
        description = "Point a fleet at an image: a tag is resolved to its manifest digest through the registry and pinned.")
    static final class SetTarget implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Mixin RegistryFlags registry;
      @Parameters(index = "0", paramLabel = "NAME") String name;
      @Parameters(index = "1", paramLabel = "REF") String ref;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        FleetSpec cur = c.fleet(name).spec();
        String pinned = pin(ref, registry);
        FleetInfo f = c.updateFleet(new FleetSpec(name, cur.selector(), pinned, null, cur.policy(), cur.signatures()));
        // a fleet with a policy keeps its target and rolls the new one out; one without takes it at once
        RolloutInfo started = null;
        if (cur.targetDigest() != null && cur.policy() != null && !pinned.endsWith("@" + f.spec().targetDigest())) {
          started = c.rollouts(name).stream().filter(r -> r.active() && pinned.endsWith("@" + r.targetDigest())).findFirst().orElse(null);
        }
        if (o.json()) {
          System.out.println(ApiJson.write(started == null ? f : Map.of("fleet", f, "rollout", started)));
        } else if (started != null) {
          System.out.println("fleet " + name + " keeps target " + f.spec().targetRef() + "@" + f.spec().targetDigest() + " while it rolls out "
              + pinned + " (" + f.members() + " members)");
          System.out.println("started " + Rollouts.line(started));
          System.out.println("follow it with: basalt fleet rollouts status " + started.id() + " --watch");
        } else {
          System.out.println("fleet " + name + " now targets " + f.spec().targetRef() + "@" + f.spec().targetDigest() + " (" + f.members() + " members)");
        }
        return 0;
      }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a fleet (its devices keep what they run).")
    static final class Delete implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "NAME") String name;

      @Override
      public Integer call() throws Exception {
        o.client().deleteFleet(name);
        System.out.println("deleted fleet " + name);
        return 0;
      }
    }
  }

  // ---------------------------------------------------------------- rollouts

  @Command(name = "rollouts", mixinStandardHelpOptions = true,
      description = {"Start, follow and steer rollouts (the server's rollout engine releases waves per the policy).",
          "ROLLOUT is a rollout id, or a fleet name for that fleet's newest rollout."},
      subcommands = {Rollouts.Start.class, Rollouts.List_.class, Rollouts.Status.class, Rollouts.Events.class, Rollouts.Pause.class,
          Rollouts.Resume.class, Rollouts.Approve.class, Rollouts.Revert.class, Rollouts.Abort.class})
  static final class Rollouts implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** The rollout {@code idOrFleet} names: by id, else the fleet's newest. */
    static RolloutInfo find(AdminClient c, String idOrFleet) throws IOException {
      try {
        return c.rollout(idOrFleet);
      } catch (FleetClientException e) {
        if (e.status() != 404) throw e;
      }
      List<RolloutInfo> rs;
      try {
        rs = c.rollouts(idOrFleet);
      } catch (FleetClientException e) {
        if (e.status() == 404) throw new IllegalArgumentException("no rollout and no fleet is named '" + idOrFleet + "'");
        throw e;
      }
      if (rs.isEmpty()) throw new IllegalArgumentException("fleet " + idOrFleet + " has no rollout yet");
      return rs.getFirst();
    }

    /** {@code 1/4 waves done (released 2): 50 succeeded, 3 failed, 947 waiting}. */
    static String counts(RolloutInfo r) {
      StringBuilder b = new StringBuilder().append(r.succeededWaves()).append('/').append(r.waveCount()).append(" waves done (released ")
          .append(r.releasedWaves()).append(')');
      String sep = ": ";
      for (var e : r.stages().entrySet()) {
        b.append(sep).append(e.getValue()).append(' ').append(e.getKey().toLowerCase().replace('_', '-'));
        sep = ", ";
      }
      return b.toString();
    }

    /** One line: id, fleet, phase, counts, reason. */
    static String line(RolloutInfo r) {
      return "rollout " + r.id() + " of " + r.fleet() + " " + r.phase() + ", " + counts(r) + (r.reason() == null ? "" : "; reason: " + r.reason());
    }

    static void show(FleetOptions o, RolloutInfo r) {
      if (o.json()) {
        System.out.println(ApiJson.write(r));
        return;
      }
      System.out.println("rollout " + r.id() + " of fleet " + r.fleet() + ": " + r.phase() + (r.active() ? "" : " (ended)"));
      System.out.println("target:   " + r.targetRef() + "@" + r.targetDigest());
      System.out.println("previous: " + r.previousRef() + "@" + r.previousDigest());
      System.out.println("progress: " + counts(r));
      if (r.reason() != null) System.out.println("reason:   " + r.reason());
      System.out.println("started by " + r.createdBy() + " at " + time(r.createdAt()) + ", updated " + time(r.updatedAt()));
      System.out.println();
      java.util.TreeSet<String> stages = new java.util.TreeSet<>();
      r.waves().forEach(w -> stages.addAll(w.stages().keySet()));
      List<String> header = new ArrayList<>(List.of("WAVE", "STATUS", "DEVICES"));
      stages.forEach(st -> header.add(st.replace('_', '-')));
      List<List<String>> rows = new ArrayList<>();
      for (RolloutInfo.Wave w : r.waves()) {
        List<String> row = new ArrayList<>(List.of(Integer.toString(w.index()),
            w.index() < r.succeededWaves() ? "done" : w.index() < r.releasedWaves() ? "released" : "waiting", Integer.toString(w.devices())));
        stages.forEach(st -> row.add(Integer.toString(w.stages().getOrDefault(st, 0))));
        rows.add(row);
      }
      FleetOptions.table(System.out, header, rows);
    }

    static void events(FleetOptions o, List<RolloutEventInfo> es) {
      List<List<String>> rows = new ArrayList<>();
      for (RolloutEventInfo e : es) {
        rows.add(List.of(Long.toString(e.seq()), time(e.time()), e.type(), e.wave() == null ? "" : e.wave().toString(),
            e.deviceId() == null ? "" : e.deviceId(), e.message()));
      }
      o.print(System.out, es, List.of("SEQ", "TIME", "TYPE", "WAVE", "DEVICE", "MESSAGE"), rows);
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
        description = {"Start a rollout of a fleet to an image (a tag is resolved and pinned by digest now). The fleet keeps",
            "its target until the rollout succeeds; a revert goes back to it."})
    static final class Start implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Mixin RegistryFlags registry;
      @Parameters(index = "0", paramLabel = "FLEET") String fleet;
      @Parameters(index = "1", paramLabel = "REF") String ref;
      @Option(names = "--policy", paramLabel = "JSON", description = "Rollout policy (JSON object; default: the fleet's policy).") String policy;

      @Override
      public Integer call() throws Exception {
        RolloutInfo r = o.client().startRollout(fleet, new RolloutRequest(Fleets.pin(ref, registry), null, Fleets.policy(policy)));
        if (o.json()) {
          System.out.println(ApiJson.write(r));
        } else {
          System.out.println("started " + line(r));
          System.out.println("follow it with: basalt fleet rollouts status " + r.id() + " --watch");
        }
        return 0;
      }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "A fleet's rollouts, newest first.")
    static final class List_ implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "FLEET") String fleet;

      @Override
      public Integer call() throws Exception {
        List<RolloutInfo> rs = o.client().rollouts(fleet);
        List<List<String>> rows = new ArrayList<>();
        for (RolloutInfo r : rs) {
          rows.add(List.of(r.id(), r.phase(), r.succeededWaves() + "/" + r.waveCount(), r.targetRef() + "@" + FleetOptions.shortDigest(r.targetDigest()),
              r.createdBy(), String.valueOf(time(r.createdAt())), String.valueOf(time(r.updatedAt()))));
        }
        o.print(System.out, rs, List.of("ID", "PHASE", "WAVES", "TARGET", "BY", "CREATED", "UPDATED"), rows);
        return 0;
      }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
        description = {"A rollout's phase and waves. With --watch: its new events as they come, until it ends or waits",
            "for an operator (paused, waiting for approval)."})
    static final class Status implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ROLLOUT") String rollout;
      @Option(names = "--watch", description = "Follow it until it ends or waits for an operator.") boolean watch;
      @Option(names = "--interval", defaultValue = "2s", description = "With --watch: how often to ask (default ${DEFAULT-VALUE}).") String interval;

      static boolean settled(RolloutInfo r) {
        return !r.active() || r.phase().equals("PAUSED") || r.phase().equals("WAITING_APPROVAL");
      }

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        Duration every = Duration.between(Instant.now(), expiry(interval)).plusMillis(1);
        RolloutInfo r = find(c, rollout);
        show(o, r);
        if (!watch) return 0;
        long seq = 0;
        for (RolloutEventInfo e : c.rolloutEvents(r.id())) seq = e.seq();
        while (!settled(r)) {
          System.out.flush();
          Thread.sleep(every.toMillis());
          for (RolloutEventInfo e : c.rolloutEvents(r.id(), seq, 1000)) {
            seq = e.seq();
            System.out.println(o.json() ? ApiJson.mapper().writeValueAsString(e).replaceAll("\\s*\\n\\s*", " ")
                : time(e.time()) + " " + e.type() + (e.wave() == null ? "" : " wave " + e.wave())
                    + (e.deviceId() == null ? "" : " " + e.deviceId()) + ": " + e.message());
          }
          r = c.rollout(r.id());
        }
        System.out.println(o.json() ? ApiJson.mapper().writeValueAsString(r).replaceAll("\\s*\\n\\s*", " ") : line(r));
        return 0;
      }
    }

    @Command(name = "events", mixinStandardHelpOptions = true, description = "A rollout's events, in order.")
    static final class Events implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ROLLOUT") String rollout;
      @Option(names = "--after", defaultValue = "0", paramLabel = "SEQ", description = "Only the events after this seq.") long after;
      @Option(names = "--limit", defaultValue = "1000", description = "At most this many (default ${DEFAULT-VALUE}).") int limit;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        events(o, c.rolloutEvents(find(c, rollout).id(), after, limit));
        return 0;
      }
    }

    /** An operator action on a rollout; prints the rollout after it. */
    abstract static class Act implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ROLLOUT") String rollout;

      abstract RolloutInfo act(AdminClient c, String id) throws IOException;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        RolloutInfo r = act(c, find(c, rollout).id());
        System.out.println(o.json() ? ApiJson.write(r) : line(r));
        return 0;
      }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a rollout: nothing new is released.")
    static final class Pause extends Act {
      @Option(names = "--reason", description = "Kept in the rollout and the audit log.") String reason;

      RolloutInfo act(AdminClient c, String id) throws IOException {
        return c.pauseRollout(id, reason);
      }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Resume a paused rollout (the failed devices of the wave being judged are accepted).")
    static final class Resume extends Act {
      RolloutInfo act(AdminClient c, String id) throws IOException {
        return c.resumeRollout(id);
      }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a gated wave (default: the one it waits for).")
    static final class Approve extends Act {
      @Option(names = "--wave", paramLabel = "N", description = "The wave to approve (0-based).") Integer wave;

      RolloutInfo act(AdminClient c, String id) throws IOException {
        return c.approveRollout(id, wave);
      }
    }

    @Command(name = "revert", mixinStandardHelpOptions = true, description = "Send every device that took the new image back to the previous one.")
    static final class Revert extends Act {
      @Option(names = "--reason", description = "Kept in the rollout and the audit log.") String reason;

      RolloutInfo act(AdminClient c, String id) throws IOException {
        return c.revertRollout(id, reason);
      }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Stop a rollout for good; desired states stay as they are.")
    static final class Abort extends Act {
      @Option(names = "--reason", description = "Kept in the rollout and the audit log.") String reason;

      RolloutInfo act(AdminClient c, String id) throws IOException {
        return c.abortRollout(id, reason);
      }
    }
  }

  // ---------------------------------------------------------------- admin tokens, audit, CA

  @Command(name = "tokens", mixinStandardHelpOptions = true, description = "Create, list and revoke admin API tokens.",
      subcommands = {Tokens.Create.class, Tokens.List_.class, Tokens.Revoke.class})
  static final class Tokens implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an admin token; its secret is shown once.")
    static final class Create implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "NAME") String name;
      @Option(names = "--scope", required = true, paramLabel = "SCOPE", split = ",",
          description = "fleet:read, fleet:write, devices:approve, admin (repeatable or comma-separated).") List<String> scopes;
      @Option(names = "--expires-in", paramLabel = "DURATION", description = "e.g. 90d (default never).") String expiresIn;
      @Option(names = "--secret-file", paramLabel = "FILE", description = "Write the secret to FILE (0600) instead of printing it.") Path secretFile;

      @Override
      public Integer call() throws Exception {
        AdminTokenInfo t = o.client().createAdminToken(new AdminTokenRequest(name, new java.util.TreeSet<>(scopes), expiry(expiresIn)));
        System.out.println("created admin token " + t.id() + " (" + t.name() + ", " + String.join(",", new java.util.TreeSet<>(t.scopes())) + ")");
        secret(System.out, "admin token", t.token(), secretFile);
        return 0;
      }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List admin tokens (never their secrets).")
    static final class List_ implements Callable<Integer> {
      @Mixin FleetOptions o;

      @Override
      public Integer call() throws Exception {
        List<AdminTokenInfo> ts = o.client().adminTokens();
        List<List<String>> rows = new ArrayList<>();
        for (AdminTokenInfo t : ts) {
          rows.add(List.of(t.id(), t.name(), String.join(",", new java.util.TreeSet<>(t.scopes())), time(t.createdAt()), String.valueOf(time(t.expiresAt()))));
        }
        o.print(System.out, ts, List.of("ID", "NAME", "SCOPES", "CREATED", "EXPIRES"), rows);
        return 0;
      }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke admin tokens.")
    static final class Revoke implements Callable<Integer> {
      @Mixin FleetOptions o;
      @Parameters(paramLabel = "ID", arity = "1..*") List<String> ids;

      @Override
      public Integer call() throws Exception {
        AdminClient c = o.client();
        for (String id : ids) {
          c.revokeAdminToken(id);
          System.out.println("revoked admin token " + id);
        }
        return 0;
      }
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true, description = "The audit log, newest first.")
  static final class Audit implements Callable<Integer> {
    @Mixin FleetOptions o;
    @Option(names = "--limit", defaultValue = "50", description = "Rows (default ${DEFAULT-VALUE}).") int limit;
    @Option(names = "--before", defaultValue = "0", paramLabel = "ID", description = "Only rows with a smaller id (paging).") long before;

    @Override
    public Integer call() throws Exception {
      List<AuditEntry> es = o.client().audit(limit, before);
      List<List<String>> rows = new ArrayList<>();
      for (AuditEntry e : es) {
        rows.add(List.of(String.valueOf(e.id()), time(e.time()), e.actor(), e.action(), e.object(),
            e.details() == null || e.details().isEmpty() ? "" : ApiJson.mapper().writeValueAsString(e.details()).replaceAll("\\s*\\n\\s*", " ")));
      }
      o.print(System.out, es, List.of("ID", "TIME", "ACTOR", "ACTION", "OBJECT", "DETAILS"), rows);
      return 0;
    }
  }

  @Command(name = "ca", mixinStandardHelpOptions = true, description = "Print the fleet CA certificate (PEM) devices pin.")
  static final class Ca implements Callable<Integer> {
    @Mixin FleetOptions o;

    @Override
    public Integer call() throws Exception {
      System.out.print(o.client().caCertificate());
      return 0;
    }
  }
}
