/**
 * The streaming top-down layer merge ({@link dev.basalt.oci.merge.LayerMerge}) and the bridges
 * between trees and tar: {@link dev.basalt.oci.merge.TarTreeSink} (export),
 * {@link dev.basalt.oci.merge.TarTreeSource} (rootfs import) and the deterministic
 * {@link dev.basalt.oci.merge.LayerWriter}.
 */
package dev.basalt.oci.merge;
