package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Entry names, the systemd-boot 252 order measured in ARCHITECTURE.md §5, bless, promote, temps. */
class BootEntriesTest {
  @TempDir Path esp;

  @ParameterizedTest
  @CsvSource({
      "basalt-00000002-b+3.conf, 2, B, 3, 0",
      "basalt-00000002-b+2-1.conf, 2, B, 2, 1",
      "basalt-00000007-a+0-3.conf, 7, A, 0, 3",
      "basalt-00000001-a.conf, 1, A, -1, 0"})
  void parsesNamesWithCounters(String name, int serial, Slot slot, int left, int done) {
    BootEntry.Name n = BootEntry.parseName(name).orElseThrow();
    assertThat(n).isEqualTo(new BootEntry.Name(serial, slot, left, done));
  }

  @ParameterizedTest
  @CsvSource({"basalt-1-a.conf", "basalt-00000001-c.conf", "debian.conf", "basalt-00000001-a+x.conf", ".basalt-00000001-a.conf.tmp"})
  void ignoresOtherNames(String name) {
    assertThat(BootEntry.parseName(name)).isEmpty();
  }

  private void touch(String... names) throws Exception {
    Path d = Files.createDirectories(esp.resolve("loader/entries"));
    for (String n : names) Files.writeString(d.resolve(n), "title T (Basalt x, slot y)\noptions root=PARTUUID=1 ro\n");
  }

  @Test
  void highestNameBootsAndSpentEntriesComeLast() throws Exception {
    touch("basalt-00000001-a.conf", "basalt-00000002-b+0-3.conf", "other.conf");
    BootEntries e = BootEntries.at(esp);
    assertThat(e.list()).extracting(BootEntry::fileName).containsExactly("basalt-00000001-a.conf", "basalt-00000002-b+0-3.conf");
    touch("basalt-00000003-a+3.conf");
    assertThat(e.preferred().orElseThrow().fileName()).isEqualTo("basalt-00000003-a+3.conf");
    assertThat(e.highestSerial()).isEqualTo(3);
  }

  @Test
  void aLoneBadEntryStillBoots() throws Exception {
    touch("basalt-00000004-b+0-3.conf");
    assertThat(BootEntries.at(esp).preferred().orElseThrow().bad()).isTrue();
  }

  @Test
  void writeBlessPromoteRemoveAndCleanTemps() throws Exception {
    BootEntries e = BootEntries.at(esp);
    BootEntry w = e.write(Slot.B, 2, 3, "OS", List.of("root=PARTUUID=x", "ro"));
    assertThat(w.fileName()).isEqualTo("basalt-00000002-b+3.conf");
    assertThat(Files.readString(esp.resolve("loader/entries/" + w.fileName()))).isEqualTo("""
        title OS (Basalt 00000002, slot b)
        version 00000002
        sort-key basalt
        linux /basalt/b/vmlinuz
        initrd /basalt/b/initrd.img
        options root=PARTUUID=x ro
        """);
    BootEntry blessed = e.bless(e.entry(Slot.B).orElseThrow());
    assertThat(blessed.fileName()).isEqualTo("basalt-00000002-b.conf");
    BootEntry p = e.promote(blessed, 5, 3, BootEntries.osTitle(blessed));
    assertThat(e.list()).extracting(BootEntry::fileName).containsExactly("basalt-00000005-b+3.conf");
    assertThat(p.title()).isEqualTo("OS (Basalt 00000005, slot b)");
    assertThatThrownBy(() -> e.promote(p, 5, 3, "OS")).hasMessageContaining("must exceed");
    Files.writeString(esp.resolve("loader/entries/.basalt-00000006-a+3.conf.tmp"), "half");
    assertThat(e.cleanTemps()).isEqualTo(1);
    e.removeSlot(Slot.B);
    assertThat(e.list()).isEmpty();
    assertThatThrownBy(() -> BootEntries.at(esp.resolve("missing"))).hasMessageContaining("missing");
  }
}
