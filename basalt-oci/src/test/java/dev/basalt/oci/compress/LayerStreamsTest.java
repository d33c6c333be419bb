package dev.basalt.oci.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LayerStreamsTest {
  @TempDir Path tmp;

  static final byte[] DATA = new byte[1_500_000];
  static {
    Random r = new Random(7);
    for (int i = 0; i < DATA.length; i++) DATA[i] = (byte) ("abcdefgh".charAt(r.nextInt(8)));
  }

  static byte[] compress(Compression c, byte[] data, int level) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = LayerStreams.compress(out, c, level)) {
      z.write(data);
    }
    return out.toByteArray();
  }

  static byte[] open(byte[] blob, Compression c, DecompressionLimits limits) throws IOException {
    try (InputStream in = LayerStreams.open(new ByteArrayInputStream(blob), c, "layer sha256:abc", limits)) {
      return in.readAllBytes();
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void ourOutputIsDeterministicAndTheRealToolDecompressesIt(Compression c) throws IOException {
    int level = c == Compression.ZSTD ? 3 : 6;
    byte[] a = compress(c, DATA, level);
    assertThat(a).isEqualTo(compress(c, DATA, level));
    assertThat(open(a, c, DecompressionLimits.DEFAULT)).isEqualTo(DATA);
    if (c == Compression.NONE) return;
    Path f = tmp.resolve("blob");
    Files.write(f, a);
    String tool = c == Compression.GZIP ? "gzip" : "zstd";
    Tools.require(tool);
    Path out = tmp.resolve("out");
    Tools.check("sh", "-c", tool + " -d -c < '" + f + "' > '" + out + "'");
    assertThat(Files.readAllBytes(out)).isEqualTo(DATA);
    if (c == Compression.GZIP) {
      assertThat(Arrays.copyOf(a, 10)).containsExactly(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);
      Tools.check("gzip", "-t", f.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"GZIP", "ZSTD"})
  void readsWhatTheRealToolWritesIncludingConcatenatedMembers(Compression c) throws IOException {
    String tool = c == Compression.GZIP ? "gzip" : "zstd";
    Tools.require(tool);
    Path in = tmp.resolve("in");
    Files.write(in, DATA);
    Path blob = tmp.resolve("blob");
    // Two members/frames back to back, as pigz or layer-appending tools produce.
    Tools.check("sh", "-c", "(" + tool + " -c < '" + in + "'; " + tool + " -c < '" + in + "') > '" + blob + "'");
    byte[] twice = new byte[DATA.length * 2];
    System.arraycopy(DATA, 0, twice, 0, DATA.length);
    System.arraycopy(DATA, 0, twice, DATA.length, DATA.length);
    assertThat(open(Files.readAllBytes(blob), c, DecompressionLimits.DEFAULT)).isEqualTo(twice);
  }

  @Test
  void magicMismatchNamesTheBlobAndBothFormats() throws IOException {
    byte[] gz = compress(Compression.GZIP, DATA, 1);
    byte[] zs = compress(Compression.ZSTD, DATA, 1);
    assertThatThrownBy(() -> LayerStreams.open(new ByteArrayInputStream(gz), MediaTypes.OCI_LAYER_ZSTD, "layer sha256:abc",
        DecompressionLimits.DEFAULT))
        .isInstanceOf(CompressionException.class).hasMessage("layer sha256:abc: declared zstd but the data starts with gzip magic");
    assertThatThrownBy(() -> open(zs, Compression.GZIP, DecompressionLimits.DEFAULT))
        .hasMessage("layer sha256:abc: declared gzip but the data starts with zstd magic");
    assertThatThrownBy(() -> open(gz, Compression.NONE, DecompressionLimits.DEFAULT))
        .hasMessage("layer sha256:abc: declared uncompressed tar but the data starts with gzip magic");
    assertThatThrownBy(() -> open(DATA, Compression.GZIP, DecompressionLimits.DEFAULT))
        .hasMessage("layer sha256:abc: declared gzip but the data has no gzip magic");
    assertThatThrownBy(() -> open(new byte[0], Compression.ZSTD, DecompressionLimits.DEFAULT))
        .hasMessage("layer sha256:abc: declared zstd but the data has no zstd magic (only 0 bytes)");
    assertThatThrownBy(() -> LayerStreams.open(new ByteArrayInputStream(gz), "text/plain", "layer sha256:abc",
        DecompressionLimits.DEFAULT)).hasMessage("layer sha256:abc: not a layer media type: 'text/plain'");
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"GZIP", "ZSTD"})
  void truncatedOrCorruptDataNamesTheBlob(Compression c) throws IOException {
    byte[] z = compress(c, DATA, 3);
    byte[] cut = Arrays.copyOf(z, z.length / 2);
    assertThatThrownBy(() -> open(cut, c, DecompressionLimits.DEFAULT))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("layer sha256:abc: ")
        .hasMessageContaining("truncated " + (c == Compression.GZIP ? "gzip" : "zstd"));
    byte[] bad = z.clone();
    for (int i = z.length / 3; i < z.length / 3 + 64; i++) bad[i] ^= 0x5a;
    assertThatThrownBy(() -> open(bad, c, DecompressionLimits.DEFAULT))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("layer sha256:abc: corrupt");
  }

  @Test
  void aZeroBombIsStoppedByTheRatioLimitEarly() throws IOException {
    // 128 MiB of zeros → ~130 KiB of gzip; the default limits stop it after the 8 MiB grace.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] zeros = new byte[1 << 20];
    try (OutputStream z = LayerStreams.compress(out, Compression.GZIP, 1)) {
      for (int i = 0; i < 128; i++) z.write(zeros);
    }
    byte[] bomb = out.toByteArray();
    assertThat(bomb.length).isLessThan(2 << 20);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> open(bomb, Compression.GZIP, DecompressionLimits.DEFAULT))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("layer sha256:abc: compression ratio above 100:1")
        .hasMessageContaining("decompression bomb");
    assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to detect").isLessThan(2000);
    assertThatThrownBy(() -> open(bomb, Compression.GZIP, DecompressionLimits.UNLIMITED.withMaxBytes(3 << 20)))
        .hasMessage("layer sha256:abc: decompresses to more than 3145728 bytes (decompression limit)");
    assertThat(open(bomb, Compression.GZIP, DecompressionLimits.UNLIMITED)).hasSize(128 << 20);
  }

  @Test
  void limitsAndLevelsAreValidated() {
    assertThatThrownBy(() -> new DecompressionLimits(0, 1, 0)).hasMessage("maxBytes must be positive, got 0");
    assertThatThrownBy(() -> new DecompressionLimits(1, 0, 0)).hasMessage("maxRatio must be at least 1, got 0");
    assertThatThrownBy(() -> LayerStreams.compress(new ByteArrayOutputStream(), Compression.GZIP, 10))
        .hasMessage("gzip level must be 1..9, got 10");
    assertThatThrownBy(() -> LayerStreams.compress(new ByteArrayOutputStream(), Compression.ZSTD, 0))
        .hasMessage("zstd level must be 1..19, got 0");
    assertThat(List.of(Compression.values())).hasSize(3);
  }
}
