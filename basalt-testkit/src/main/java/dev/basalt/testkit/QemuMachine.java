package dev.basalt.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real x86-64 UEFI machine under QEMU for boot tests: OVMF firmware with a private copy of its
 * variable store, one virtio disk, the serial console on a unix socket that the test reads and
 * types into, user-mode networking (the guest reaches the host's loopback at 10.0.2.2) with
 * optional port forwards, an optional i6300esb watchdog, and QMP for resets and power cuts.
 *
 * <p>The console text a test matches against has ANSI escape sequences and carriage returns
 * removed; the raw bytes go to {@link #consoleLog()}. {@link #awaitConsole} consumes the console
 * up to the end of each match, so successive waits see successive output.
 *
 * <p>Every machine keeps a transcript: on {@link #close} the console text (escapes removed, with
 * a note at each power cycle and why it happened) is written to {@code
 * target/qemu-console/<name>-<time>.txt} of the working directory (override: {@code
 * -Dbasalt.qemu.transcripts=DIR}; the name defaults to the calling test class), and when a wait
 * on the console failed its tail is printed on stderr, so a failing run always leaves its log.
 *
 * <p>TCG by default ({@code -accel tcg,thread=multi -cpu max}): nested KVM fails on the CI
 * machines. {@code -Dbasalt.qemu.accel=kvm} switches to KVM where it works. A boot costs about a
 * minute under TCG, so tests should share one boot across many assertions.
 */
public final class QemuMachine implements AutoCloseable {

  /** Output and exit status of a command run on the guest's shell. */
  public record ExecResult(int exitCode, String output) {
    public ExecResult requireSuccess(String command) {
      if (exitCode != 0) {
        throw new AssertionError("guest command failed (exit " + exitCode + "): " + command + "\n" + output);
      }
      return this;
    }
  }

  private static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
  private static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
  private static final Pattern SHELL_PROMPT = Pattern.compile("[\\w.-]+@[\\w.-]+:[^\\n]*[#$] ");
  /**
   * A getty's "host login: " prompt, or a shell prompt. Not the "Last login: DATE on ttyS0" line of
   * the login banner: taken for a prompt, it had the user name typed into the shell and the wait
   * for "Password: " never ended (the DiskBootTest flake, whenever the getty's banner came after
   * the last line the test waited for, which happens on the second boot only: the first has no
   * last login).
   */
  static final Pattern LOGIN_OR_SHELL =
      Pattern.compile("(?<login>\\b(?!Last login: )[\\w.-]+ login: )|(?<shell>" + SHELL_PROMPT.pattern() + ")");
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  /**
   * How long a login prompt is left alone for a getty's autologin to follow it. It came at once in
   * every run measured here; the wait ends as soon as it does, and only a getty without autologin
   * pays the full wait.
   */
  private static final int AUTOLOGIN_WAIT_S = 20;
  private static final Duration AUTOLOGIN_WAIT = Duration.ofSeconds(AUTOLOGIN_WAIT_S);

  private final List<String> command;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private final Path consoleLog;
  private final Path consoleSocket;
  private final Path qmpSocket;
  private final Path qemuLog;
  private final Path transcript;
  private final boolean coldReboot;
  private final OutputStream log;
  private final long startNanos = System.nanoTime();
  private final Object lock = new Object();
  private final StringBuilder text = new StringBuilder();
  private final AnsiStripper stripper = new AnsiStripper();
  private int cursor;
  private boolean stopped;
  private int exitCode = -1;
  private int powerCycles;
  private boolean failed;
  private volatile boolean killed;
  private volatile Process process;
  private volatile SocketChannel console;
  private volatile Qmp qmp;
  private Thread reader;
  private final Thread supervisor;

  private QemuMachine(List<String> command, Path workDir, boolean ownsWorkDir, Path consoleLog, Path consoleSocket,
      Path qmpSocket, Path qemuLog, Path transcript, boolean coldReboot) throws IOException {
    this.command = List.copyOf(command);
    this.workDir = workDir;
    this.ownsWorkDir = ownsWorkDir;
    this.consoleLog = consoleLog;
    this.consoleSocket = consoleSocket;
    this.qmpSocket = qmpSocket;
    this.qemuLog = qemuLog;
    this.transcript = transcript;
    this.coldReboot = coldReboot;
    this.log = Files.newOutputStream(consoleLog);
    launch();
    this.supervisor = Thread.ofPlatform().daemon().name("qemu-supervisor").start(this::supervise);
  }

  public static Builder builder(Path disk) {
    return new Builder(disk);
  }

  /** Options of a machine; {@link #start()} boots it. */
  public static final class Builder {
    private final Path disk;
    private String format;
    private String cache = "unsafe";
    private int memoryMiB = 2048;
    private int cpus = 2;
    private boolean watchdog;
    private boolean network = true;
    private final List<String> forwards = new ArrayList<>();
    private Path workDir;
    private Path consoleLog;
    private Path varsFile;
    private final List<String> extraArgs = new ArrayList<>();
    private boolean coldReboot = true;
    private String name = callerName();

    private Builder(Path disk) {
      this.disk = Objects.requireNonNull(disk, "disk");
    }

    /** Names the transcript file ({@code <name>-<time>.txt}); by default the simple name of the calling class. */
    public Builder name(String name) {
      if (!name.matches("[\\w.-]{1,100}")) {
        throw new IllegalArgumentException("name must be 1-100 of [A-Za-z0-9_.-], got '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /** Disk image format; by default {@code qcow2} when the file starts with the qcow2 magic, else {@code raw}. */
    public Builder format(String format) {
      if (!format.equals("raw") && !format.equals("qcow2")) {
        throw new IllegalArgumentException("format must be raw or qcow2, got " + format);
      }
      this.format = format;
      return this;
    }

    /**
     * QEMU's disk cache mode: {@code unsafe} (the default, fastest) ignores the guest's flushes, so
     * after {@link #kill} even fsynced data may be missing from a qcow2 file; {@code writeback}
     * honours them, as a real disk does, which power-cut tests need.
     */
    public Builder cache(String mode) {
      if (!List.of("unsafe", "writeback", "none", "directsync", "writethrough").contains(mode)) {
        throw new IllegalArgumentException("cache must be unsafe, writeback, none, directsync or writethrough, got " + mode);
      }
      this.cache = mode;
      return this;
    }

    public Builder memoryMiB(int mib) {
      if (mib < 256) throw new IllegalArgumentException("memory must be at least 256 MiB, got " + mib);
      this.memoryMiB = mib;
      return this;
    }

    public Builder cpus(int cpus) {
      if (cpus < 1 || cpus > 64) throw new IllegalArgumentException("cpus must be 1..64, got " + cpus);
      this.cpus = cpus;
      return this;
    }

    /** Adds an i6300esb watchdog whose expiry resets the machine (systemd's RuntimeWatchdogSec drives it). */
    public Builder watchdog(boolean on) {
      this.watchdog = on;
      return this;
    }

    /** User-mode networking (on by default): guest 10.0.2.15, host loopback reachable at 10.0.2.2. */
    public Builder network(boolean on) {
      this.network = on;
      return this;
    }

    /** Forwards TCP {@code 127.0.0.1:hostPort} to the guest's {@code guestPort} (e.g. 22 for SSH). */
    public Builder hostForward(int hostPort, int guestPort) {
      if (hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) {
        throw new IllegalArgumentException("ports must be 1..65535, got " + hostPort + " -> " + guestPort);
      }
      forwards.add("hostfwd=tcp:127.0.0.1:" + hostPort + "-:" + guestPort);
      return this;
    }

    /** Directory for the VARS copy, sockets and logs; by default a temporary one removed on close. */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /** Where the raw console output is written (kept after close); default {@code workDir/console.log}. */
    public Builder consoleLog(Path file) {
      this.consoleLog = file;
      return this;
    }

    /**
     * An OVMF variable store to use (and update) in place, so that firmware state survives across
     * machines on the same disk; by default each machine gets a fresh copy of OVMF_VARS_4M.fd.
     */
    public Builder varsFile(Path file) {
      this.varsFile = file;
      return this;
    }

    /**
     * When on (the default), a guest reboot or {@link #reset()} ends the QEMU process and the
     * machine is started again on the same disk and variable store: a power cycle. Under TCG,
     * OVMF's warm-reset path spins 60-120 s in SEC (measured: QEMU 7.2, OVMF 2022.11) while a
     * cold start reaches the kernel in about 10 s. The console text continues across cycles.
     */
    public Builder coldReboot(boolean on) {
      this.coldReboot = on;
      return this;
    }

    public Builder extraArgs(String... args) {
      extraArgs.addAll(List.of(args));
      return this;
    }

    public QemuMachine start() throws IOException {
      Path qemu = Tools.require("qemu-system-x86_64");
      if (!Files.isRegularFile(disk)) throw new IOException("disk image not found: " + disk);
      for (Path p : List.of(OVMF_CODE, OVMF_VARS)) {
        if (!Files.isRegularFile(p)) throw new AssertionError("OVMF firmware missing: " + p + " (apt-get install ovmf)");
      }
      boolean ownsDir = workDir == null;
      Path dir = ownsDir ? Files.createTempDirectory("basalt-qemu") : Files.createDirectories(workDir);
      Path vars = varsFile;
      if (vars == null) {
        vars = dir.resolve("OVMF_VARS.fd");
        Files.copy(OVMF_VARS, vars, StandardCopyOption.REPLACE_EXISTING);
      } else if (!Files.exists(vars)) {
        Files.copy(OVMF_VARS, vars);
      }
      Path consoleSocket = dir.resolve("console.sock");
      Path qmp = dir.resolve("qmp.sock");
      Files.deleteIfExists(consoleSocket);
      Files.deleteIfExists(qmp);
      String fmt = format != null ? format : probeFormat(disk);
      String accel = System.getProperty("basalt.qemu.accel", "tcg");
      List<String> cmd = new ArrayList<>(List.of(qemu.toString(),
          "-nodefaults", "-no-user-config", "-display", "none",
          "-machine", "q35",
          "-m", Integer.toString(memoryMiB), "-smp", Integer.toString(cpus)));
      if (accel.equals("kvm")) {
        cmd.addAll(List.of("-accel", "kvm", "-cpu", "host"));
      } else {
        cmd.addAll(List.of("-accel", "tcg,thread=multi", "-cpu", "max"));
      }
      cmd.addAll(List.of(
          "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
          "-drive", "if=pflash,format=raw,unit=1,file=" + vars,
          "-drive", "if=virtio,format=" + fmt + ",cache=" + cache + ",file=" + disk,
          "-chardev", "socket,id=con0,path=" + consoleSocket + ",server=on,wait=on",
          "-serial", "chardev:con0",
          "-qmp", "unix:" + qmp + ",server=on,wait=off"));
      if (network) {
        StringBuilder netdev = new StringBuilder("user,id=net0");
        forwards.forEach(f -> netdev.append(',').append(f));
        cmd.addAll(List.of("-netdev", netdev.toString(), "-device", "virtio-net-pci,netdev=net0"));
      }
      if (watchdog) cmd.addAll(List.of("-device", "i6300esb", "-action", "watchdog=reset"));
      cmd.addAll(extraArgs);
      if (coldReboot) cmd.addAll(List.of("-action", "reboot=shutdown"));
      String time = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
      Path transcripts = Path.of(System.getProperty("basalt.qemu.transcripts", "target/qemu-console"));
      return new QemuMachine(cmd, dir, ownsDir, consoleLog != null ? consoleLog : dir.resolve("console.log"),
          consoleSocket, qmp, dir.resolve("qemu.log"), transcripts.toAbsolutePath().resolve(name + "-" + time + ".txt"),
          coldReboot);
    }

    private static String callerName() {
      return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
          .walk(s -> s.map(StackWalker.StackFrame::getDeclaringClass)
              .filter(c -> c != QemuMachine.class && c != Builder.class).findFirst())
          .map(Class::getSimpleName).filter(n -> !n.isEmpty()).orElse("qemu");
    }
  }

  /** Starts one QEMU process and connects to its console and QMP. */
  private void launch() throws IOException {
    Files.deleteIfExists(consoleSocket);
    Files.deleteIfExists(qmpSocket);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(qemuLog.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    process = p;
    console = connect(p, consoleSocket);
    SocketChannel ch = console;
    reader = Thread.ofPlatform().daemon().name("qemu-console").start(() -> readConsole(ch));
    qmp = new Qmp(connect(p, qmpSocket));
  }

  private SocketChannel connect(Process p, Path socket) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      if (!p.isAlive()) {
        throw new IOException("qemu exited (" + p.exitValue() + ") at start: " + String.join(" ", command)
            + "\n" + Files.readString(qemuLog));
      }
      if (Files.exists(socket)) {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
          channel.connect(UnixDomainSocketAddress.of(socket));
          return channel;
        } catch (IOException notYet) {
          channel.close();
        }
      }
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IOException("qemu did not open " + socket);
      }
      sleep(50);
    }
  }

  /** Waits for each QEMU process to end; starts the next one when the guest reset (cold reboot). */
  private void supervise() {
    while (true) {
      Process p = process;
      int code;
      try {
        code = p.waitFor();
        reader.join();
        qmp.drain();
      } catch (InterruptedException e) {
        return;
      }
      String reason = qmp.shutdownReason();
      boolean reset = "guest-reset".equals(reason) || "host-qmp-system-reset".equals(reason);
      appendNote(String.format("[QemuMachine %.0f s: qemu exited %d, shutdown reason %s%s]", uptime().toNanos() / 1e9,
          code, reason, killed ? " (killed by the test)" : coldReboot && reset ? ": power cycle " + (powerCycles + 1) : ""));
      if (coldReboot && reset && !killed) {
        try {
          synchronized (lock) {
            powerCycles++;
          }
          launch();
          if (killed) process.destroyForcibly(); // kill() raced with the restart
          continue;
        } catch (IOException e) {
          appendNote("[QemuMachine: restart after reset failed: " + e.getMessage() + "]");
        }
      }
      synchronized (lock) {
        stopped = true;
        exitCode = code;
        lock.notifyAll();
      }
      return;
    }
  }

  private void appendNote(String note) {
    synchronized (lock) {
      text.append('\n').append(note).append('\n');
      lock.notifyAll();
    }
  }

  /** A QMP connection: commands answered in order, SHUTDOWN events remembered. */
  private static final class Qmp {
    private final SocketChannel channel;
    private final java.io.BufferedReader in;
    private final java.util.concurrent.BlockingQueue<String> replies = new java.util.concurrent.LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile String shutdownReason;

    Qmp(SocketChannel channel) throws IOException {
      this.channel = channel;
      this.in = new java.io.BufferedReader(new java.io.InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      in.readLine(); // greeting
      this.thread = Thread.ofPlatform().daemon().name("qemu-qmp").start(this::read);
      call("{\"execute\":\"qmp_capabilities\"}");
    }

    private void read() {
      try {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.contains("\"event\"")) {
            if (line.contains("\"SHUTDOWN\"")) {
              Matcher m = Pattern.compile("\"reason\":\\s*\"([^\"]+)\"").matcher(line);
              shutdownReason = m.find() ? m.group(1) : "unknown";
            }
          } else {
            replies.add(line);
          }
        }
      } catch (IOException closed) {
        // process gone
      }
    }

    synchronized String call(String json) throws IOException {
      ByteBuffer b = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) channel.write(b);
      try {
        String reply = replies.poll(30, TimeUnit.SECONDS);
        if (reply == null) throw new IOException("no QMP reply to " + json);
        if (reply.contains("\"error\"")) throw new IOException("QMP " + json + ": " + reply);
        return reply;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }

    void drain() throws InterruptedException {
      thread.join(5000);
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing
      }
    }

    String shutdownReason() {
      return shutdownReason;
    }
  }

  /** {@code qcow2} when the file starts with the qcow2 magic "QFI\xfb", else {@code raw}. */
  static String probeFormat(Path disk) throws IOException {
    try (var in = Files.newInputStream(disk)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4 && magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && (magic[3] & 0xff) == 0xfb
          ? "qcow2" : "raw";
    }
  }

  private void readConsole(SocketChannel channel) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    ByteBuffer in = ByteBuffer.allocate(8192);
    CharBuffer out = CharBuffer.allocate(8192);
    try {
      while (channel.read(in) >= 0) {
        in.flip();
        synchronized (lock) {
          log.write(in.array(), in.position(), in.remaining());
          log.flush();
        }
        decoder.decode(in, out, false);
        in.compact();
        out.flip();
        synchronized (lock) {
          stripper.append(out, text);
          lock.notifyAll();
        }
        out.clear();
      }
    } catch (IOException closed) {
      // this QEMU process went away; the supervisor decides what comes next
    }
  }

  /** Drops ANSI escape sequences (colors, cursor moves, bracketed paste) and carriage returns. */
  private static final class AnsiStripper {
    private int state; // 0 text, 1 after ESC, 2 inside CSI

    void append(CharBuffer chars, StringBuilder to) {
      while (chars.hasRemaining()) {
        char c = chars.get();
        switch (state) {
          case 0 -> {
            if (c == 0x1b) state = 1;
            else if (c != '\r') to.append(c);
          }
          case 1 -> state = c == '[' ? 2 : 0;
          default -> {
            if (c >= 0x40 && c <= 0x7e) state = 0;
          }
        }
      }
    }
  }

  /**
   * Waits until {@code regex} (MULTILINE) matches console output not consumed yet, consumes it
   * up to the end of the match and returns the match. The console is a stream that may end in
   * the middle of a line: end a capture with {@code \n} (not {@code $}) so that it is complete.
   *
   * @throws AssertionError on timeout or when the machine stops, with the end of the console
   */
  public MatchResult awaitConsole(String regex, Duration timeout) {
    return awaitConsole(Pattern.compile(regex, Pattern.MULTILINE), timeout);
  }

  public MatchResult awaitConsole(Pattern pattern, Duration timeout) {
    MatchResult m = find(pattern, timeout);
    if (m == null) {
      synchronized (lock) {
        failed = true;
      }
      throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for /" + pattern.pattern()
          + "/ on the console (log: " + consoleLog + "); last output:\n" + tail(4000));
    }
    return m;
  }

  /** Like {@link #awaitConsole} but returns null on timeout. */
  private MatchResult find(Pattern pattern, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (true) {
        Matcher m = pattern.matcher(text);
        m.region(cursor, text.length());
        if (m.find()) {
          cursor = m.end();
          return m.toMatchResult();
        }
        if (stopped) {
          failed = true;
          throw new AssertionError("machine stopped while waiting for /" + pattern.pattern()
              + "/ on the console (log: " + consoleLog + "); last output:\n" + tail(4000));
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) return null;
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted", e);
        }
      }
    }
  }

  /** All console text so far (escape sequences and carriage returns removed). */
  public String console() {
    synchronized (lock) {
      return text.toString();
    }
  }

  /** Console text not consumed by an {@link #awaitConsole} yet. */
  public String pendingConsole() {
    synchronized (lock) {
      return text.substring(cursor);
    }
  }

  private String tail(int chars) {
    return text.substring(Math.max(0, text.length() - chars));
  }

  /** Types {@code s} on the serial console. */
  public void send(String s) {
    try {
      ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) console.write(b);
    } catch (IOException e) {
      throw new AssertionError("cannot write to the console: " + e, e);
    }
  }

  public void sendLine(String line) {
    send(line + "\n");
  }

  /**
   * Gets a root shell on the serial console: logs in at a {@code login:} prompt, or takes the
   * shell of a getty that logs in automatically (it is given {@value #AUTOLOGIN_WAIT_S} s after
   * its prompt to do so before the user name is typed). Then quiets kernel messages on the console and
   * sets a wide terminal so that tools do not truncate their output.
   */
  public void login(String user, String password, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      // The prompt may have scrolled by before the caller asked: Enter brings a fresh one.
      MatchResult m = find(LOGIN_OR_SHELL, min(Duration.ofSeconds(10), remaining(deadline)));
      if (m == null) {
        if (System.nanoTime() > deadline) awaitConsole(LOGIN_OR_SHELL, Duration.ofMillis(1));
        sendLine("");
        continue;
      }
      if (m.group("shell") != null) break;
      // A getty with --autologin prints "login: " and then, by itself, "root (automatic login)";
      // under TCG the second part can come seconds later. A user name typed before it would be
      // read by the autologin shell as a command (and a wait for "Password: " would never end),
      // so give the getty time to log in by itself before typing.
      long promptAt = System.nanoTime();
      MatchResult auto = find(Pattern.compile(Pattern.quote(user) + " \\(automatic login\\)|(?<shell>"
          + SHELL_PROMPT.pattern() + ")"), min(AUTOLOGIN_WAIT, remaining(deadline)));
      if (auto != null) {
        // Not a console note: text added mid-stream could split the prompt being waited for.
        System.out.println(String.format("[QemuMachine] %s %d ms after the login prompt",
            auto.group("shell") != null ? "shell prompt" : "autologin", (System.nanoTime() - promptAt) / 1_000_000));
        if (auto.group("shell") != null) break;
        continue; // the shell prompt follows
      }
      sendLine(user);
      MatchResult p = awaitConsole(Pattern.compile("(?<password>Password: )|(?<shell>" + SHELL_PROMPT.pattern() + ")"),
          remaining(deadline));
      // A late autologin after all: the typed name went to its shell (command not found), which prompts again.
      if (p.group("shell") != null) break;
      sendLine(password);
      MatchResult r = awaitConsole("(?<bad>Login incorrect)|(?<shell>" + SHELL_PROMPT.pattern() + ")", remaining(deadline));
      if (r.group("bad") != null) throw new AssertionError("guest login refused for " + user);
      break;
    }
    // stty acts on the shell's own terminal, so it is typed, not run through exec's sh -c.
    sendLine("stty cols 250 rows 50; dmesg -n 1");
    exec("true", remaining(deadline));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }

  private static Duration remaining(long deadlineNanos) {
    return Duration.ofNanos(Math.max(1, deadlineNanos - System.nanoTime()));
  }

  /**
   * Runs a shell command on the logged-in console and returns its output (stdout and stderr,
   * without carriage returns) and exit status. The command travels base64-encoded and is run by
   * {@code sh -c} with stdin from /dev/null; unique markers that never appear in the echoed input
   * delimit the output. Console messages printed meanwhile (kernel, systemd) may interleave.
   */
  public ExecResult exec(String command, Duration timeout) {
    String id = "BX" + SEQUENCE.incrementAndGet();
    String b64 = Base64.getEncoder().encodeToString(command.getBytes(StandardCharsets.UTF_8));
    String script = "/tmp/.basalt-exec-" + id;
    StringBuilder lines = new StringBuilder();
    // A tty line holds 4095 bytes: long commands go to a file piece by piece.
    for (int i = 0; i < b64.length(); i += 2000) {
      lines.append("printf %s ").append(b64, i, Math.min(b64.length(), i + 2000))
          .append(i == 0 ? " > " : " >> ").append(script).append('\n');
    }
    lines.append("printf '\\036%s\\n' ").append(id).append("-S; sh -c \"$(base64 -d ").append(script)
        .append(")\" </dev/null 2>&1; printf '\\036%s-E%d\\n' ").append(id).append(" $?; rm -f ").append(script);
    sendLine(lines.toString());
    awaitConsole(Pattern.compile("\u001e" + id + "-S\n"), timeout);
    MatchResult end = awaitConsole(Pattern.compile("(?s)(.*?)\u001e" + id + "-E(\\d+)\n"), timeout);
    return new ExecResult(Integer.parseInt(end.group(2)), end.group(1));
  }

  /** {@link #exec} that requires exit status 0 and returns the output. */
  public String execOk(String command, Duration timeout) {
    return exec(command, timeout).requireSuccess(command).output();
  }

  /** Asks the guest to reboot ({@code systemctl reboot}) without waiting for it. */
  public void reboot() {
    sendLine("systemctl reboot");
  }

  /** Hard reset (the reset button), through QMP; a power cycle when {@link Builder#coldReboot} is on. */
  public void reset() {
    qmp("{\"execute\":\"system_reset\"}");
  }

  /** Power cut: the QEMU process is killed; nothing the guest did not write yet reaches the disk. */
  public void kill() {
    killed = true;
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** Waits for the machine to stop for good (guest power-off, {@link #kill}); returns QEMU's exit status. */
  public int awaitExit(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (!stopped) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          failed = true;
          throw new AssertionError("qemu still running after " + timeout.toSeconds() + "s; last output:\n" + tail(3000));
        }
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
      return exitCode;
    }
  }

  public boolean isRunning() {
    synchronized (lock) {
      return !stopped;
    }
  }

  /** How many times the guest reset and QEMU was started again ({@link Builder#coldReboot}). */
  public int powerCycles() {
    synchronized (lock) {
      return powerCycles;
    }
  }

  /** Time since the machine was started. */
  public Duration uptime() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  public Path consoleLog() {
    return consoleLog;
  }

  /** Sends one QMP command (JSON) and returns the reply line. */
  public String qmp(String command) {
    try {
      return qmp.call(command);
    } catch (IOException e) {
      throw new AssertionError("QMP " + command + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    killed = true;
    Process p = process;
    if (p.isAlive()) {
      p.destroyForcibly();
    }
    try {
      supervisor.join(30_000);
      console.close();
      synchronized (lock) {
        log.close();
      }
    } catch (IOException | InterruptedException ignored) {
      // best effort
    }
    keepTranscript();
    if (ownsWorkDir) {
      try (var s = Files.walk(workDir)) {
        s.sorted(Comparator.reverseOrder()).filter(f -> !f.equals(consoleLog)).forEach(f -> f.toFile().delete());
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  /** Where {@link #close} writes the console transcript. */
  public Path transcript() {
    return transcript;
  }

  private void keepTranscript() {
    String all;
    boolean print;
    synchronized (lock) {
      all = text.toString();
      print = failed;
    }
    try {
      Files.createDirectories(transcript.getParent());
      Files.writeString(transcript, all);
    } catch (IOException e) {
      System.err.println("[QemuMachine] cannot write the transcript " + transcript + ": " + e);
    }
    if (print) {
      System.err.println("[QemuMachine] a console wait failed; transcript " + transcript + ", raw log " + consoleLog
          + "; last 6000 characters:\n" + all.substring(Math.max(0, all.length() - 6000)));
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
