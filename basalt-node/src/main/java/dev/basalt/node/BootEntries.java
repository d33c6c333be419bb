package dev.basalt.node;

import dev.basalt.api.ApiJson;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The Basalt part of a mounted ESP: boot entries in {@code loader/entries/}, kernels and
 * initramfs in {@code basalt/<slot>/}, and {@code basalt/<slot>/deployment.json} describing what
 * each slot holds. Every change is temp file + fsync + rename + fsync of the directory.
 *
 * <p>Ordering follows what was measured on systemd-boot 252 (ARCHITECTURE.md §5): among entries
 * not at {@code +0} the highest file name boots; {@code +0} entries come after all others. Entries
 * also carry {@code sort-key basalt} and {@code version <serial>} agreeing with the name, so newer
 * systemd-boot versions pick the same one.
 */
public final class BootEntries {
  /** Tries a newly staged entry gets ({@code +3}). */
  public static final int DEFAULT_TRIES = 3;
  static final String DEPLOYMENT_JSON = "deployment.json";

  private final Path esp;
  private final Path entriesDir;

  private BootEntries(Path esp) {
    this.esp = esp;
    this.entriesDir = esp.resolve("loader").resolve("entries");
  }

  /** The ESP mounted (or, in tests, unpacked) at {@code esp}. */
  public static BootEntries at(Path esp) throws NodeException {
    if (!Files.isDirectory(esp)) throw new NodeException("ESP directory " + esp + " does not exist");
    return new BootEntries(esp.toAbsolutePath());
  }

  public Path esp() { return esp; }

  /** Basalt entries in boot order: the one systemd-boot 252 boots first. */
  public List<BootEntry> list() throws IOException {
    List<BootEntry> out = new ArrayList<>();
    if (!Files.isDirectory(entriesDir)) return out;
    try (Stream<Path> s = Files.list(entriesDir)) {
      for (Path p : s.sorted().toList()) {
        String name = p.getFileName().toString();
        Optional<BootEntry.Name> n = BootEntry.parseName(name);
        if (n.isEmpty() || !Files.isRegularFile(p)) continue;
        String title = "";
        String options = "";
        for (String line : Files.readString(p, StandardCharsets.UTF_8).split("\n")) {
          String l = line.strip();
          if (l.startsWith("title ")) title = l.substring(6).strip();
          if (l.startsWith("options ")) options = options.isEmpty() ? l.substring(8).strip() : options + " " + l.substring(8).strip();
        }
        BootEntry.Name nm = n.get();
        out.add(new BootEntry(name, nm.serial(), nm.slot(), nm.triesLeft(), nm.triesDone(), title, options));
      }
    }
    out.sort(BOOT_ORDER);
    return out;
  }

  /** Good and untried entries first, highest name first; spent ({@code +0}) entries last. */
  static final Comparator<BootEntry> BOOT_ORDER = Comparator.comparing(BootEntry::bad)
      .thenComparing(BootEntry::fileName, Comparator.reverseOrder());

  /** The entry systemd-boot boots next. */
  public Optional<BootEntry> preferred() throws IOException {
    return list().stream().findFirst();
  }

  /** The newest entry of a slot. */
  public Optional<BootEntry> entry(Slot slot) throws IOException {
    return list().stream().filter(e -> e.slot() == slot).max(Comparator.comparingInt(BootEntry::serial));
  }

  /** The highest serial on the ESP, 0 when there is no entry. */
  public int highestSerial() throws IOException {
    return list().stream().mapToInt(BootEntry::serial).max().orElse(0);
  }

  /**
   * Writes an entry for {@code slot} (atomically: until the rename it exists only under a temp
   * name). This is the commit point of an update.
   *
   * @param tries boot tries ({@code +N}); 0 writes it without counter
   */
  public BootEntry write(Slot slot, int serial, int tries, String osTitle, List<String> options) throws IOException {
    Objects.requireNonNull(slot, "slot");
    if (tries < 0 || tries > 9) throw new IllegalArgumentException("tries must be 0..9, got " + tries);
    String serialText = String.format(Locale.ROOT, "%08d", serial);
    String text = "title " + osTitle + " (Basalt " + serialText + ", slot " + slot.id() + ")\n"
        + "version " + serialText + "\n"
        + "sort-key basalt\n"
        + "linux /basalt/" + slot.id() + "/vmlinuz\n"
        + "initrd /basalt/" + slot.id() + "/initrd.img\n"
        + "options " + String.join(" ", options) + "\n";
    Files.createDirectories(entriesDir);
    String name = BootEntry.fileName(serial, slot, tries);
    Durable.write(entriesDir.resolve(name), text.getBytes(StandardCharsets.UTF_8));
    return new BootEntry(name, serial, slot, tries > 0 ? tries : -1, 0,
        osTitle + " (Basalt " + serialText + ", slot " + slot.id() + ")", String.join(" ", options));
  }

  /** Removes every entry of {@code slot} (before its partitions are overwritten). */
  public void removeSlot(Slot slot) throws IOException {
    for (BootEntry e : list()) if (e.slot() == slot) Durable.delete(entriesDir.resolve(e.fileName()));
  }

  /** Removes one entry. */
  public void remove(BootEntry e) throws IOException {
    Durable.delete(entriesDir.resolve(e.fileName()));
  }

  /** Marks an entry good: drops its counter, as systemd-bless-boot does. No-op for an entry without counter. */
  public BootEntry bless(BootEntry e) throws IOException {
    if (!e.counted()) return e;
    Path from = entriesDir.resolve(e.fileName());
    Path to = entriesDir.resolve(e.blessedName());
    Files.move(from, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Durable.fsyncDirectory(entriesDir);
    return new BootEntry(e.blessedName(), e.serial(), e.slot(), -1, 0, e.title(), e.options());
  }

  /**
   * Rollback (ARCHITECTURE.md §5): gives {@code e}'s slot the new, higher {@code serial} with
   * {@code tries} boot tries: the new entry is written first, then the old one removed, so a
   * power cut leaves at worst both (the higher one wins, and the next change removes the other).
   */
  public BootEntry promote(BootEntry e, int serial, int tries, String osTitle) throws IOException {
    if (serial <= e.serial()) throw new IllegalArgumentException("new serial " + serial + " must exceed " + e.serial());
    BootEntry fresh = write(e.slot(), serial, tries, osTitle, KernelCmdline.parse(e.options()).args());
    remove(e);
    return fresh;
  }

  /** The OS part of an entry title ({@code Debian GNU/Linux 12 (bookworm)}), without Basalt's suffix. */
  static String osTitle(BootEntry e) {
    String t = e.title();
    int i = t.lastIndexOf(" (Basalt ");
    return i > 0 ? t.substring(0, i) : (t.isEmpty() ? "Linux" : t);
  }

  /** Copies kernel and initramfs into {@code basalt/<slot>/} (each atomically). */
  public void installBootFiles(Slot slot, Path kernel, Path initrd, Progress progress) throws IOException {
    Path dir = Files.createDirectories(esp.resolve("basalt").resolve(slot.id()));
    long k = Files.size(kernel);
    long i = Files.size(initrd);
    Durable.copy(kernel, dir.resolve("vmlinuz"), done -> progress.bytes("kernel", done, k));
    Durable.copy(initrd, dir.resolve("initrd.img"), done -> progress.bytes("initrd", done, i));
  }

  /** Progress of a copy: {@code (what, done, total)}. */
  @FunctionalInterface
  public interface Progress {
    void bytes(String what, long done, long total);
  }

  /** Records what a slot holds, beside its kernel ({@code basalt/<slot>/deployment.json}). */
  public void writeSlotRecord(SlotRecord record) throws IOException {
    Path dir = Files.createDirectories(esp.resolve("basalt").resolve(record.deployment().slot()));
    Durable.write(dir.resolve(DEPLOYMENT_JSON), ApiJson.write(record).getBytes(StandardCharsets.UTF_8));
  }

  /** What a slot holds, if recorded. An unreadable record counts as none (it is advisory: the entry commits). */
  public Optional<SlotRecord> readSlotRecord(Slot slot) throws IOException {
    Path p = esp.resolve("basalt").resolve(slot.id()).resolve(DEPLOYMENT_JSON);
    try {
      SlotRecord r = ApiJson.read(Files.readString(p, StandardCharsets.UTF_8), SlotRecord.class, p.toString());
      return r.deployment().slot().equals(slot.id()) ? Optional.of(r) : Optional.empty();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * The node's config ({@code basalt/config.toml}, written by {@code basalt disk --config}): users
   * and host name applied again to every slot an update writes. Empty when there is none.
   *
   * @throws NodeException when the file is there but not a valid config
   */
  public Optional<DiskConfig> nodeConfig() throws IOException {
    Path p = esp.resolve(DiskBuilder.NODE_CONFIG);
    if (!Files.isRegularFile(p)) return Optional.empty();
    try {
      return Optional.of(DiskConfig.parse(p));
    } catch (DiskConfig.ConfigException e) {
      throw new NodeException("the node's config on the ESP is not valid: " + e.getMessage(), e);
    }
  }

  /** Removes a slot's record (its content is about to be overwritten). */
  public void removeSlotRecord(Slot slot) throws IOException {
    Durable.delete(esp.resolve("basalt").resolve(slot.id()).resolve(DEPLOYMENT_JSON));
  }

  /** Deletes temp files a crash left in {@code loader/entries/} and {@code basalt/<slot>/}. */
  public int cleanTemps() throws IOException {
    int n = 0;
    List<Path> dirs = List.of(entriesDir, esp.resolve("basalt/a"), esp.resolve("basalt/b"));
    for (Path d : dirs) {
      if (!Files.isDirectory(d)) continue;
      try (Stream<Path> s = Files.list(d)) {
        for (Path p : s.filter(Durable::isTemp).toList()) {
          Files.delete(p);
          n++;
        }
      }
    }
    return n;
  }
}
