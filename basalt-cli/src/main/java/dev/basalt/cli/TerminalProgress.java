package dev.basalt.cli;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.copy.ProgressListener;
import java.util.concurrent.ConcurrentHashMap;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** One progress bar per blob on a terminal; used only when stdout is a console. */
final class TerminalProgress implements ProgressListener, AutoCloseable {
  private final ConcurrentHashMap<String, ProgressBar> bars = new ConcurrentHashMap<>();

  @Override
  public void blobStarted(Descriptor blob) {
    bars.computeIfAbsent(blob.digest().toString(), k -> new ProgressBarBuilder()
        .setTaskName(blob.digest().shortHex())
        .setInitialMax(blob.size())
        .setUnit(" MB", 1_000_000)
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(200)
        .continuousUpdate()
        .build());
  }

  @Override
  public void blobProgress(Descriptor blob, long bytes) {
    ProgressBar b = bars.get(blob.digest().toString());
    if (b != null) b.stepBy(bytes);
  }

  @Override
  public void blobDone(Descriptor blob, BlobAction action) {
    ProgressBar b = bars.remove(blob.digest().toString());
    if (b != null) {
      b.stepTo(blob.size());
      b.setExtraMessage(action.name().toLowerCase());
      b.close();
    } else {
      System.err.println(blob.digest().shortHex() + " " + action.name().toLowerCase());
    }
  }

  @Override
  public void close() {
    bars.values().forEach(ProgressBar::close);
    bars.clear();
  }
}
