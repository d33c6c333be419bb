/**
 * Layer blob (de)compression by media type: gzip (JDK zlib) and zstd (zstd-jni), magic-byte
 * sniffing against the declared type, decompression-bomb limits, deterministic writers.
 */
package dev.basalt.oci.compress;
