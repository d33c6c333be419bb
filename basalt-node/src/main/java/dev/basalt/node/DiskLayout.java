package dev.basalt.node;

import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.UUID;

/** The Basalt partitions of a disk (ARCHITECTURE.md §4), found by GPT label. */
record DiskLayout(Path disk, GptTable table, GptPartition esp, GptPartition rootA, GptPartition rootB,
    Optional<GptPartition> verityA, Optional<GptPartition> verityB) {

  static DiskLayout read(Path disk) throws IOException {
    GptTable t;
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      t = GptTable.read(ch);
    } catch (IOException e) {
      throw new NodeException("cannot read the partition table of " + disk + ": " + e.getMessage(), e);
    }
    return new DiskLayout(disk, t, need(t, disk, "esp"), need(t, disk, "root-a"), need(t, disk, "root-b"),
        t.find("verity-a"), t.find("verity-b"));
  }

  private static GptPartition need(GptTable t, Path disk, String label) throws NodeException {
    return t.find(label).orElseThrow(() -> new NodeException("disk " + disk + " has no partition labelled '" + label
        + "' (a Basalt disk has esp, root-a, root-b, verity-a, verity-b, var)"));
  }

  GptPartition root(Slot s) { return s == Slot.A ? rootA : rootB; }

  Optional<GptPartition> verity(Slot s) { return s == Slot.A ? verityA : verityB; }

  /** The slot whose root partition has this PARTUUID. */
  Optional<Slot> slotOf(UUID partuuid) {
    for (Slot s : Slot.values()) if (root(s).uuid().equals(partuuid)) return Optional.of(s);
    return Optional.empty();
  }
}
