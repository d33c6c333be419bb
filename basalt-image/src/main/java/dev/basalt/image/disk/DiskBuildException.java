package dev.basalt.image.disk;

import dev.basalt.image.lint.LintReport;
import java.io.IOException;
import java.util.Optional;

/** A disk that cannot be built from these inputs; the message says what and how to fix it. */
public final class DiskBuildException extends IOException {
  private final transient LintReport lint;

  public DiskBuildException(String message) {
    this(message, null, null);
  }

  DiskBuildException(String message, LintReport lint, Throwable cause) {
    super(message, cause);
    this.lint = lint;
  }

  /** The lint report when the image was refused as not bootable. */
  public Optional<LintReport> lint() { return Optional.ofNullable(lint); }
}
