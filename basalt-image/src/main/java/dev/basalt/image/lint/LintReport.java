package dev.basalt.image.lint;

import dev.basalt.image.initramfs.Compression;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The result of linting one image.
 *
 * @param findings problems in check order (empty for a clean image)
 * @param boot the kernel and initramfs Basalt would boot, when there is exactly one kernel
 * @param kargs kernel arguments from {@code /usr/lib/bootc/kargs.d} for the linted architecture,
 *     in file-name order (files that failed to parse contribute nothing)
 */
public record LintReport(List<Finding> findings, Optional<BootFiles> boot, List<String> kargs) {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  public LintReport {
    findings = List.copyOf(findings);
    Objects.requireNonNull(boot, "boot");
    kargs = List.copyOf(kargs);
  }

  /**
   * The boot files of the image's one kernel.
   *
   * @param kernelVersion {@code <kver>}
   * @param kernel absolute image path of the kernel
   * @param initramfs absolute image path of its initramfs, or {@code null} when missing
   * @param initramfsCompression how the initramfs' main archive is stored, or {@code null} when
   *     it is missing or unreadable
   */
  public record BootFiles(String kernelVersion, String kernel, String initramfs, Compression initramfsCompression) {
    public BootFiles {
      Objects.requireNonNull(kernelVersion, "kernelVersion");
      Objects.requireNonNull(kernel, "kernel");
    }
  }

  /** Findings of severity error. */
  public List<Finding> errors() {
    return findings.stream().filter(f -> f.severity() == Severity.ERROR).toList();
  }

  /** Findings of severity warning. */
  public List<Finding> warnings() {
    return findings.stream().filter(f -> f.severity() == Severity.WARNING).toList();
  }

  /** True when there is no error (warnings allowed). */
  public boolean ok() { return errors().isEmpty(); }

  /** Human-readable report, one finding per paragraph, then the boot files and a summary line. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    for (Finding f : findings) {
      b.append(f.severity().id()).append(": [").append(f.check().id()).append("] ");
      if (f.path() != null) b.append(f.path()).append(": ");
      b.append(f.problem()).append('\n');
      b.append("  fix: ").append(f.fix()).append('\n');
    }
    boot.ifPresent(bf -> {
      b.append("kernel ").append(bf.kernelVersion()).append(": ").append(bf.kernel());
      if (bf.initramfs() != null) {
        b.append(", initramfs ").append(bf.initramfs());
        if (bf.initramfsCompression() != null) b.append(" (").append(bf.initramfsCompression().id()).append(')');
      }
      b.append('\n');
    });
    if (!kargs.isEmpty()) b.append("kargs: ").append(String.join(" ", kargs)).append('\n');
    int e = errors().size();
    int w = warnings().size();
    b.append(ok() ? "ok" : "not bootable").append(": ").append(e).append(e == 1 ? " error, " : " errors, ")
        .append(w).append(w == 1 ? " warning" : " warnings").append('\n');
    return b.toString();
  }

  /** The report as a JSON object (fields in a fixed order). */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("ok", ok());
    root.put("errors", errors().size());
    root.put("warnings", warnings().size());
    ArrayNode list = root.putArray("findings");
    for (Finding f : findings) {
      ObjectNode o = list.addObject();
      o.put("severity", f.severity().id());
      o.put("check", f.check().id());
      if (f.path() == null) o.putNull("path");
      else o.put("path", f.path());
      o.put("problem", f.problem());
      o.put("fix", f.fix());
    }
    if (boot.isPresent()) {
      BootFiles bf = boot.get();
      ObjectNode k = root.putObject("boot");
      k.put("kernelVersion", bf.kernelVersion());
      k.put("kernel", bf.kernel());
      if (bf.initramfs() == null) k.putNull("initramfs");
      else k.put("initramfs", bf.initramfs());
      if (bf.initramfsCompression() == null) k.putNull("initramfsCompression");
      else k.put("initramfsCompression", bf.initramfsCompression().id());
    } else {
      root.putNull("boot");
    }
    ArrayNode ka = root.putArray("kargs");
    kargs.forEach(ka::add);
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
  }
}
