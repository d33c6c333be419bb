package dev.basalt.node;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import java.io.IOException;
import java.util.Optional;
import java.util.UUID;

/**
 * One machine's A/B slots, boot entries and state, reconciled with what actually booted.
 *
 * <p>{@link #reconcile()} runs at the start of every command (and is what the agent calls after
 * boot): it tells the booted slot from {@code root=PARTUUID=} on the kernel command line and the
 * GPT, promotes a staged deployment that did boot, records a staged deployment whose trial boots
 * were spent while the machine fell back to the other slot as failed (its digest is then refused
 * unless forced), records the health runner's verdict, marks an update killed half-way as
 * interrupted, and rebuilds what the state file lacks from the ESP (entries and
 * {@code basalt/<slot>/deployment.json}).
 */
public final class Node {
  private final NodeEnvironment env;
  private final NodeState state;
  private final BootEntries entries;
  private DiskLayout layout;

  private Node(NodeEnvironment env, NodeState state, BootEntries entries) {
    this.env = env;
    this.state = state;
    this.entries = entries;
  }

  public static Node open(NodeEnvironment env) throws IOException {
    return new Node(env, NodeState.open(env.stateDir()), BootEntries.at(env.esp()));
  }

  public NodeEnvironment environment() { return env; }

  public NodeState state() { return state; }

  public BootEntries entries() { return entries; }

  DiskLayout layout() throws IOException {
    if (layout == null) layout = DiskLayout.read(env.disk());
    return layout;
  }

  /** The slot the running system booted from ({@code root=PARTUUID=} of the kernel command line). */
  public Slot bootedSlot() throws IOException {
    KernelCmdline cl = env.readCmdline();
    UUID uuid = cl.rootPartUuid().orElseThrow(() -> new NodeException("kernel command line " + env.cmdline()
        + " has no root=PARTUUID=<uuid>: cannot tell the booted slot"));
    DiskLayout l = layout();
    return l.slotOf(uuid).orElseThrow(() -> new NodeException("the booted root PARTUUID " + uuid
        + " is neither root-a (" + l.rootA().uuid() + ") nor root-b (" + l.rootB().uuid() + ") of " + env.disk()));
  }

  /** Reconciles, then returns the status. When another command holds the lock, returns the state as recorded. */
  public NodeStatus status() throws IOException {
    try (NodeState.Lock lock = state.lock()) {
      return reconcileLocked().status();
    } catch (NodeException held) {
      if (!held.getMessage().startsWith("another basalt command")) throw held;
      return state.read().status();
    }
  }

  /** Brings the state in line with the running boot and the ESP (see the class comment); takes the lock. */
  public NodeState.Data reconcile() throws IOException {
    try (NodeState.Lock lock = state.lock()) {
      return reconcileLocked();
    }
  }

  NodeState.Data reconcileLocked() throws IOException {
    NodeState.Data before = state.read();
    NodeState.Data d = before.withSlots(NodeState.slotMap(layout()));
    Slot booted = bootedSlot();
    Slot other = booted.other();
    String bootId = env.readBootId();
    entries.cleanTemps();
    if (d.updatePhase().inProgress()) {
      d = d.withPhase(UpdatePhase.FAILED, "the update was interrupted while " + phaseText(d.updatePhase())
          + " (killed or power cut); the booted slot is untouched, run it again");
    }
    Deployment bootedDep = d.booted();
    Deployment staged = d.staged();
    Deployment rollback = d.rollback();
    String stagedBootId = d.stagedBootId();

    // Which deployment is running?
    if (bootedDep == null || !bootedDep.slot().equals(booted.id())) {
      if (staged != null && staged.slot().equals(booted.id())) {
        rollback = bootedDep;
        bootedDep = staged;
        staged = null;
        stagedBootId = null;
      } else if (rollback != null && rollback.slot().equals(booted.id())) {
        Deployment was = bootedDep;
        bootedDep = rollback;
        rollback = was;
      } else {
        bootedDep = fromEsp(booted, Health.UNKNOWN);
      }
    }
    Optional<BootEntry> bootedEntry = entries.entry(booted);
    if (bootedEntry.isPresent() && bootedEntry.get().serial() != bootedDep.serial()) {
      bootedDep = bootedDep.withSerial(bootedEntry.get().serial());
    }
    if (bootedDep.verityRootHash() == null) {
      String h = env.readCmdline().value("basalt.verity").orElse(null);
      if (h != null && h.matches("[0-9a-f]{64}")) {
        bootedDep = new Deployment(bootedDep.imageRef(), bootedDep.manifestDigest(), h, bootedDep.slot(),
            bootedDep.serial(), bootedDep.deployedAt(), bootedDep.health());
      }
    }
    bootedDep = bootedDep.withHealth(health(bootedDep.health(), bootedEntry));

    // The other slot: staged (newer entry), rollback (older entry), or nothing bootable.
    Optional<BootEntry> otherEntry = entries.entry(other);
    if (otherEntry.isEmpty()) {
      staged = null;
      rollback = null;
    } else if (otherEntry.get().serial() > bootedDep.serial()) {
      BootEntry e = otherEntry.get();
      if (staged == null || !staged.slot().equals(other.id())) {
        // The entry was committed but the state write was lost (power cut between the two).
        staged = fromEsp(other, Health.PENDING);
        stagedBootId = e.tried() ? null : bootId;
      }
      staged = staged.withSerial(e.serial());
      rollback = null;
      boolean anotherBoot = stagedBootId == null || !stagedBootId.equals(bootId);
      if (anotherBoot && e.tried()) {
        // systemd-boot spent its tries (or the trial boots failed) and we are up on the old slot.
        String what = staged.manifestDigest() != null ? staged.manifestDigest() : "serial " + e.serial();
        if (staged.manifestDigest() != null) d = d.withFailed(staged.manifestDigest());
        d = d.withPhase(UpdatePhase.FAILED, "deployment " + what + " in slot " + other.id()
            + " failed its trial boot (entry " + e.fileName() + "); fell back to slot " + booted.id()
            + ": it is not staged again unless forced");
        entries.removeSlot(other);
        staged = null;
        stagedBootId = null;
      }
    } else {
      if (staged != null && staged.slot().equals(other.id())) staged = null;
      if (rollback == null || !rollback.slot().equals(other.id())) rollback = fromEsp(other, Health.UNKNOWN);
      rollback = rollback.withSerial(otherEntry.get().serial());
    }
    if (staged == null && d.updatePhase() == UpdatePhase.STAGED) d = d.withPhase(UpdatePhase.IDLE, d.lastError());
    if (staged != null && d.updatePhase() == UpdatePhase.IDLE) d = d.withPhase(UpdatePhase.STAGED, d.lastError());

    int serial = Math.max(d.serial(), entries.highestSerial());
    NodeState.Data after = d.withDeployments(bootedDep, staged, rollback).withSerial(serial)
        .withBootIds(bootId, staged == null ? null : stagedBootId);
    if (!after.equals(before)) state.write(after);
    return after;
  }

  /** The health of the running deployment: the health runner's verdict, else the entry's blessing. */
  private Health health(Health recorded, Optional<BootEntry> entry) throws IOException {
    Optional<String> verdict = env.readHealthStatus();
    if (verdict.isPresent()) {
      String v = verdict.get();
      if (v.startsWith("passed")) return v.contains("wanted failed") ? Health.DEGRADED : Health.HEALTHY;
      if (v.startsWith("failed")) return Health.UNHEALTHY;
    }
    if (entry.isPresent() && !entry.get().counted()) {
      return recorded == Health.DEGRADED ? Health.DEGRADED : Health.HEALTHY;
    }
    if (entry.isPresent()) return Health.PENDING;
    return recorded;
  }

  /** What the ESP tells of a slot: its record, else only the serial of its entry. */
  private Deployment fromEsp(Slot slot, Health health) throws IOException {
    Optional<BootEntry> e = entries.entry(slot);
    int serial = e.map(BootEntry::serial).orElse(1);
    Optional<SlotRecord> rec = entries.readSlotRecord(slot);
    if (rec.isPresent()) {
      Deployment r = rec.get().deployment();
      return new Deployment(r.imageRef(), r.manifestDigest(), r.verityRootHash(), slot.id(), serial, r.deployedAt(), health);
    }
    String verity = e.flatMap(x -> KernelCmdline.parse(x.options()).value("basalt.verity"))
        .filter(h -> h.matches("[0-9a-f]{64}")).orElse(null);
    return new Deployment(null, null, verity, slot.id(), serial, null, health);
  }

  static String phaseText(UpdatePhase p) {
    return switch (p) {
      case RESOLVING -> "resolving the image";
      case DOWNLOADING -> "downloading layers";
      case WRITING_ROOT -> "writing the root slot";
      case WRITING_VERITY -> "writing the verity tree";
      case INSTALLING_BOOT_FILES -> "copying kernel and initramfs to the ESP";
      case WRITING_ENTRY -> "writing the boot entry";
      default -> p.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * What {@link #rollback()} did.
   *
   * @param discarded true when a staged (not yet booted) deployment was dropped instead
   * @param next the deployment that boots next, null when nothing changed the boot order
   * @param entry the boot entry written, null when only one was removed
   * @param message for people
   */
  public record RollbackResult(boolean discarded, Deployment next, String entry, String message) {}

  /**
   * Makes the other slot boot next: a staged deployment that has not booted yet is discarded (its
   * entry removed, so the running one stays); otherwise the previous deployment's entry gets a new,
   * higher serial with fresh tries (ARCHITECTURE.md §5), so the next boot is a trial of it and a
   * failure falls back to the running one.
   */
  public RollbackResult rollback() throws IOException {
    try (NodeState.Lock lock = state.lock()) {
      NodeState.Data d = reconcileLocked();
      Slot booted = Slot.of(d.booted().slot());
      Slot other = booted.other();
      if (d.staged() != null) {
        Deployment s = d.staged();
        entries.removeSlot(other);
        state.write(d.withDeployments(d.booted(), null, null).withPhase(UpdatePhase.IDLE, null).withBootIds(d.bootId(), null));
        return new RollbackResult(true, null, null, "discarded the staged deployment " + describe(s)
            + " in slot " + other.id() + "; slot " + booted.id() + " stays booted");
      }
      BootEntry e = entries.entry(other).orElseThrow(() -> new NodeException("nothing to roll back to: slot "
          + other.id() + " has no boot entry (no earlier deployment is intact there)"));
      if (d.booted().serial() >= Deployment.MAX_SERIAL) throw new NodeException("deploy serials are exhausted");
      int next = Math.max(d.serial(), entries.highestSerial()) + 1;
      BootEntry fresh = entries.promote(e, next, BootEntries.DEFAULT_TRIES, BootEntries.osTitle(e));
      Deployment target = (d.rollback() != null ? d.rollback() : fromEsp(other, Health.PENDING))
          .withSerial(next).withHealth(Health.PENDING);
      state.write(d.withDeployments(d.booted(), target, null).withSerial(next).withPhase(UpdatePhase.STAGED, null)
          .withBootIds(d.bootId(), d.bootId()));
      return new RollbackResult(false, target, fresh.fileName(), "slot " + other.id() + " (" + describe(target)
          + ") boots next on trial as " + fresh.fileName() + "; if it fails, slot " + booted.id() + " boots again");
    }
  }

  static String describe(Deployment d) {
    if (d.imageRef() != null && d.manifestDigest() != null) return d.imageRef() + " @ " + d.manifestDigest();
    if (d.manifestDigest() != null) return d.manifestDigest();
    return "serial " + d.serial();
  }
}
