/**
 * Our own tar reader and writer (ustar, PAX, GNU long names and base-256 numbers). Headers are
 * parsed and written here, never by commons-compress, so binary PAX xattr values survive byte for
 * byte. {@link dev.basalt.oci.tar.TarReader} streams entries with bounded content streams;
 * {@link dev.basalt.oci.tar.TarWriter} writes deterministic archives.
 */
package dev.basalt.oci.tar;
