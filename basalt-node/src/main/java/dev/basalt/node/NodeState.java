package dev.basalt.node;

import dev.basalt.api.ApiJson;
import dev.basalt.api.Deployment;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The node's record of its slots and deployments, {@code <dir>/state.json} (on a node
 * {@code /var/lib/basalt/state.json}). Every write is temp file + fsync + rename + fsync of the
 * directory, so a power cut leaves the previous state or the new one. Writers that change slots
 * hold {@link #lock()}.
 */
public final class NodeState {
  /** File name of the state inside its directory. */
  public static final String FILE = "state.json";
  static final int VERSION = 1;

  private final Path dir;
  private final Path file;

  private NodeState(Path dir) {
    this.dir = dir;
    this.file = dir.resolve(FILE);
  }

  /** Opens (creating the directory) the state in {@code dir}. */
  public static NodeState open(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    Files.createDirectories(abs);
    return new NodeState(abs);
  }

  public Path directory() { return dir; }

  public Path file() { return file; }

  /**
   * The partition UUIDs of one slot, as found in the GPT.
   *
   * @param root PARTUUID of {@code root-<slot>}
   * @param verity PARTUUID of {@code verity-<slot>}, null when the disk has none
   */
  public record SlotInfo(String root, String verity) {}

  /**
   * Everything recorded.
   *
   * @param version format version of the file (1)
   * @param slots {@code "a"}/{@code "b"} to their partitions
   * @param serial the highest deploy serial handed out; the next entry gets {@code serial + 1}
   * @param booted the running deployment (as of {@code bootId})
   * @param staged the deployment that boots next, on trial
   * @param rollback the previous deployment, intact in the other slot
   * @param failedDigests digests that failed their trial boot here
   * @param updatePhase where the update path is (an in-progress phase left by a crash reads as interrupted)
   * @param lastError the last update's error
   * @param bootId the kernel boot id ({@code /proc/sys/kernel/random/boot_id}) the record was last reconciled in
   * @param stagedBootId the boot id in which {@code staged} was written (a later boot has tried it)
   */
  public record Data(int version, Map<String, SlotInfo> slots, int serial, Deployment booted, Deployment staged,
      Deployment rollback, List<String> failedDigests, UpdatePhase updatePhase, String lastError, String bootId,
      String stagedBootId) {
    public Data {
      slots = slots == null ? Map.of() : Map.copyOf(slots);
      failedDigests = failedDigests == null ? List.of() : List.copyOf(failedDigests);
      if (updatePhase == null) updatePhase = UpdatePhase.IDLE;
      if (serial < 0) throw new IllegalArgumentException("serial must be >= 0, got " + serial);
    }

    /** Nothing known yet. */
    public static Data empty() {
      return new Data(VERSION, Map.of(), 0, null, null, null, List.of(), UpdatePhase.IDLE, null, null, null);
    }

    public NodeStatus status() {
      return new NodeStatus(booted, staged, rollback, failedDigests, updatePhase, lastError);
    }

    public Data withSlots(Map<String, SlotInfo> s) {
      return new Data(version, s, serial, booted, staged, rollback, failedDigests, updatePhase, lastError, bootId, stagedBootId);
    }

    public Data withSerial(int s) {
      return new Data(version, slots, s, booted, staged, rollback, failedDigests, updatePhase, lastError, bootId, stagedBootId);
    }

    public Data withDeployments(Deployment b, Deployment s, Deployment r) {
      return new Data(version, slots, serial, b, s, r, failedDigests, updatePhase, lastError, bootId, stagedBootId);
    }

    public Data withPhase(UpdatePhase p, String error) {
      return new Data(version, slots, serial, booted, staged, rollback, failedDigests, p, error, bootId, stagedBootId);
    }

    public Data withBootIds(String boot, String stagedBoot) {
      return new Data(version, slots, serial, booted, staged, rollback, failedDigests, updatePhase, lastError, boot, stagedBoot);
    }

    /** Adds a failed digest (kept once, in order of failure). */
    public Data withFailed(String digest) {
      Objects.requireNonNull(digest, "digest");
      if (failedDigests.contains(digest)) return this;
      List<String> f = new ArrayList<>(failedDigests);
      f.add(digest);
      return new Data(version, slots, serial, booted, staged, rollback, f, updatePhase, lastError, bootId, stagedBootId);
    }

    public Data withoutFailed(String digest) {
      List<String> f = new ArrayList<>(failedDigests);
      f.remove(digest);
      return new Data(version, slots, serial, booted, staged, rollback, f, updatePhase, lastError, bootId, stagedBootId);
    }
  }

  /** The recorded state; {@link Data#empty()} when there is no file yet. */
  public Data read() throws IOException {
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Data.empty();
    }
    Data d;
    try {
      d = ApiJson.read(json, Data.class, "node state " + file);
    } catch (IllegalArgumentException e) {
      throw new NodeException(e.getMessage() + " (move it away to start over; the slots and entries on disk are kept)", e);
    }
    if (d.version() != VERSION) throw new NodeException("node state " + file + " has version " + d.version() + ", this basalt reads " + VERSION);
    return d;
  }

  /** Replaces the state atomically and durably. */
  public void write(Data data) throws IOException {
    Objects.requireNonNull(data, "data");
    Durable.write(file, ApiJson.write(data).getBytes(StandardCharsets.UTF_8));
  }

  /** Slot map for the state from partition UUIDs. */
  static Map<String, SlotInfo> slotMap(DiskLayout layout) {
    Map<String, SlotInfo> m = new LinkedHashMap<>();
    for (Slot s : Slot.values()) {
      m.put(s.id(), new SlotInfo(layout.root(s).uuid().toString(),
          layout.verity(s).map(p -> p.uuid().toString()).orElse(null)));
    }
    return m;
  }

  /** An exclusive lock on the node's slots, across processes; refused at once when another holder has it. */
  public Lock lock() throws IOException {
    return lock(java.time.Duration.ZERO);
  }

  /**
   * The same lock, waiting up to {@code patience} for another holder to let go: commands such as
   * {@code basalt status} hold it for a moment to reconcile, and an agent pass should not fail for that.
   */
  public Lock lock(java.time.Duration patience) throws IOException {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      try {
        return tryLockOnce();
      } catch (NodeException held) {
        if (!held.getMessage().startsWith("another basalt command") || System.nanoTime() - deadline >= 0) throw held;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while waiting for the node lock");
      }
    }
  }

  private Lock tryLockOnce() throws IOException {
    Path lockFile = dir.resolve("lock");
    FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock l = ch.tryLock();
      if (l == null) {
        ch.close();
        throw new NodeException("another basalt command is changing this node (lock " + lockFile + " is held)");
      }
      return new Lock(ch, l);
    } catch (OverlappingFileLockException e) {
      ch.close();
      throw new NodeException("this process already holds the node lock " + lockFile, e);
    }
  }

  /** Held while changing slots, entries or state. */
  public static final class Lock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private Lock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public void close() throws IOException {
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }
}
