/**
 * The bootable-image contract (ARCHITECTURE §3) as checks: {@link dev.basalt.image.lint.ImageLint}
 * runs them on a {@link dev.basalt.image.lint.RootFs} — an unpacked directory
 * ({@link dev.basalt.image.lint.DirectoryRootFs}) or a tree stream collected in memory
 * ({@link dev.basalt.image.lint.TreeRootFs}) — and returns a
 * {@link dev.basalt.image.lint.LintReport} whose findings each say what is wrong and how to fix it.
 */
package dev.basalt.image.lint;
