package dev.basalt.image.lint;

/** How bad a finding is: an error makes an image unbootable by Basalt, a warning does not. */
public enum Severity {
  ERROR, WARNING;

  /** Lower-case name used in text and JSON output. */
  public String id() { return name().toLowerCase(java.util.Locale.ROOT); }
}
