package dev.basalt.oci.api;

import java.util.Objects;

/** An image platform, e.g. {@code linux/amd64} or {@code linux/arm64/v8}. */
public record Platform(String os, String architecture, String variant) {
  public Platform {
    Objects.requireNonNull(os, "os");
    Objects.requireNonNull(architecture, "architecture");
    variant = variant == null || variant.isEmpty() ? null : variant;
  }

  public static final Platform LINUX_AMD64 = new Platform("linux", "amd64", null);

  /** Parses {@code os/arch[/variant]}. */
  public static Platform parse(String s) {
    String[] p = s.split("/");
    if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
      throw new IllegalArgumentException("platform must be os/arch[/variant], got '" + s + "'");
    }
    return new Platform(p[0], p[1], p.length == 3 ? p[2] : null);
  }

  /** True when {@code candidate} satisfies this wanted platform (variant only compared if wanted). */
  public boolean matches(Platform candidate) {
    return os.equals(candidate.os) && architecture.equals(candidate.architecture)
        && (variant == null || Objects.equals(variant, candidate.variant));
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
