package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.TestTrees;
import dev.basalt.fs.tree.TreeSnapshot;
import dev.basalt.fs.tree.TreeSnapshot.Ignore;
import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErofsWriterTest {
  @TempDir static Path shared;
  static Path source;
  static Path image;
  static TreeSnapshot expected;

  @BeforeAll
  static void buildEdgeCaseImage() throws Exception {
    source = shared.resolve("src");
    TestTrees.edgeCases(source);
    expected = TreeSnapshot.of(source);
    image = shared.resolve("edge.erofs");
    ErofsWriter.Result r = Images.write(source, image, b -> b);
    assertThat(r.imageBytes()).isEqualTo(Files.size(image)).isEqualTo(r.blocks() * 4096);
    assertThat(r.inodes()).isEqualTo(expected.nodes().size() - 2); // two extra names of one hardlinked file
  }

  @Test
  void fsckAndDumpAcceptTheImage() {
    Images.assertClean(image);
  }

  @Test
  void kernelMountShowsExactlyTheSourceTree(@TempDir Path tmp) throws Exception {
    TreeSnapshot mounted = Images.snapshotMounted(image, tmp.resolve("mnt"));
    assertThat(expected.diff(mounted)).isEmpty();
  }

  @Test
  void fsckExtractGivesBackTheSourceTree(@TempDir Path tmp) throws Exception {
    TreeSnapshot extracted = TreeSnapshot.of(Images.extract(image, tmp.resolve("out")));
    // erofs-utils 1.5 extraction drops xattrs and hardlinks and chowns after chmod (losing setuid/setgid).
    assertThat(expected.diff(extracted, Ignore.XATTRS, Ignore.HARDLINKS, Ignore.SETID_ON_NON_DIRS)).isEmpty();
  }

  @Test
  void inodesAreCompactUnlessTheyNeedTheExtendedForm() {
    // The default build time is the most common mtime (that of the files in /wide): 32-byte inodes.
    assertThat(Images.dumpInode(image, "/wide/entry-77")).contains("Inode size: 32");
    assertThat(Images.dumpInode(image, "/size-100")).contains("Inode size: 64");
    assertThat(Images.dumpInode(image, "/owners/big-uid")).contains("Inode size: 64");
    assertThat(Images.dumpInode(image, "/owners/big-gid")).contains("Inode size: 64");
    assertThat(Images.dumpInode(image, "/size-1")).contains("Inode size: 64"); // its own mtime
    assertThat(Images.dumpInode(image, "/links/hard-a")).contains("Links: 3");
  }

  @Test
  void sameInputGivesIdenticalBytesAndMetadataDoesNotDependOnEntryOrder(@TempDir Path tmp) throws Exception {
    RecordingSink rec = new RecordingSink();
    DirectoryTreeReader.of(source).feed(rec);
    List<RecordingSink.Item> items = rec.items;
    String first = writeItems(items, tmp.resolve("a.erofs"));
    assertThat(writeItems(items, tmp.resolve("b.erofs"))).isEqualTo(first);
    assertThat(sha256(image)).isEqualTo(first); // streamed from disk = replayed from memory

    // Children before parents, non-files shuffled; regular files keep their relative order (data is streamed).
    Random rnd = new Random(7);
    List<RecordingSink.Item> files = items.stream().filter(i -> i.entry() instanceof TreeEntry.RegularFile).toList();
    List<RecordingSink.Item> links = items.stream().filter(i -> i.entry() instanceof TreeEntry.Hardlink).toList();
    List<RecordingSink.Item> others = new ArrayList<>(items.stream()
        .filter(i -> !(i.entry() instanceof TreeEntry.RegularFile) && !(i.entry() instanceof TreeEntry.Hardlink)).toList());
    Collections.shuffle(others, rnd);
    List<RecordingSink.Item> mixed = new ArrayList<>();
    int f = 0;
    for (RecordingSink.Item o : others) {
      if (f < files.size() && rnd.nextBoolean()) mixed.add(files.get(f++));
      mixed.add(o);
    }
    mixed.addAll(files.subList(f, files.size()));
    mixed.addAll(links);
    assertThat(writeItems(mixed, tmp.resolve("c.erofs"))).isEqualTo(first);

    // Fully shuffled: data blocks move, the tree stays the same.
    List<RecordingSink.Item> shuffled = new ArrayList<>(items);
    shuffled.removeAll(links);
    Collections.shuffle(shuffled, rnd);
    shuffled.addAll(links);
    Path d = tmp.resolve("d.erofs");
    writeItems(shuffled, d);
    Images.assertClean(d);
    assertThat(expected.diff(Images.snapshotMounted(d, tmp.resolve("mnt")))).isEmpty();
  }

  @Test
  void tailsSpilledToDiskAndTailsInMemoryGiveTheSameImage(@TempDir Path tmp) throws Exception {
    Path spilled = tmp.resolve("spilled.erofs");
    Images.write(source, spilled, b -> b.tailMemoryLimit(0).stagingBytes(4096));
    assertThat(sha256(spilled)).isEqualTo(sha256(image));
  }

  @Test
  void withoutInlineDataOrHolesEverythingIsPlainBlocks(@TempDir Path tmp) throws Exception {
    Path plain = tmp.resolve("plain.erofs");
    ErofsWriter.Result r = Images.write(source, plain, b -> b.inlineData(false).sparseFiles(false));
    assertThat(r.imageBytes()).isGreaterThan(Files.size(image));
    Images.assertClean(plain);
    assertThat(Images.dumpInode(plain, "/size-100")).contains("Layout: 0");
    assertThat(Images.dumpInode(plain, "/zero-blocks")).contains("Layout: 0");
    assertThat(Images.dumpInode(image, "/zero-blocks")).contains("Layout: 4");
    assertThat(Images.dumpInode(image, "/zero-end")).contains("Layout: 4");
    assertThat(Images.dumpInode(image, "/size-100")).contains("Layout: 2");
    assertThat(expected.diff(Images.snapshotMounted(plain, tmp.resolve("mnt")))).isEmpty();
  }

  @Test
  void explicitBuildTimeUuidAndLabelLandInTheSuperblock(@TempDir Path tmp) throws Exception {
    Path img = tmp.resolve("sb.erofs");
    UUID uuid = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    Images.write(source, img, b -> b.uuid(uuid).volumeName("basalt-root-a").buildTime(1_700_000_000L, 123_456_789));
    assertThat(Tools.check("dump.erofs", "-s", img.toString())).contains(uuid.toString());
    assertThat(Tools.check("blkid", "-o", "export", img.toString()))
        .contains("TYPE=erofs").contains("UUID=" + uuid).contains("LABEL=basalt-root-a");
    assertThat(Images.dumpInode(img, "/size-1")).contains("Inode size: 32"); // now its mtime is the build time
    assertThat(Images.dumpInode(img, "/size-100")).contains("Inode size: 64");
    assertThat(expected.diff(Images.snapshotMounted(img, tmp.resolve("mnt")))).isEmpty();
  }

  @Test
  void realContentRoundTrips(@TempDir Path tmp) throws Exception {
    Path doc = Path.of("/usr/share/doc");
    assertThat(doc).isDirectory();
    Path img = tmp.resolve("doc.erofs");
    Images.write(doc, img, b -> b);
    Images.assertClean(img);
    TreeSnapshot src = TreeSnapshot.of(doc);
    assertThat(src.diff(Images.snapshotMounted(img, tmp.resolve("mnt")))).isEmpty();
    assertThat(src.diff(TreeSnapshot.of(Images.extract(img, tmp.resolve("out"))),
        Ignore.XATTRS, Ignore.HARDLINKS, Ignore.SETID_ON_NON_DIRS)).isEmpty();
  }

  static String writeItems(List<RecordingSink.Item> items, Path out) throws Exception {
    try (ErofsWriter w = ErofsWriter.builder().output(out).build()) {
      RecordingSink.replay(items, w);
      w.finish();
    }
    return sha256(out);
  }

  static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
