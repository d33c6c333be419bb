package dev.basalt.image.lint;

import java.util.Objects;

/**
 * One problem lint found.
 *
 * @param severity error or warning
 * @param check which contract point failed
 * @param path the image path concerned, absolute ({@code /boot/initrd.img-6.1.0-amd64}), or
 *     {@code null} when the problem is an absence not tied to one path
 * @param problem what is wrong
 * @param fix a concrete way to fix it
 */
public record Finding(Severity severity, Check check, String path, String problem, String fix) {
  public Finding {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(check, "check");
    Objects.requireNonNull(problem, "problem");
    Objects.requireNonNull(fix, "fix");
  }
}
