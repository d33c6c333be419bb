/**
 * GUID Partition Tables on 512-byte-sector disks: build one with {@link dev.basalt.fs.gpt.GptTable#builder},
 * write it (protective MBR, primary and backup headers and entry arrays, CRC32s) with
 * {@link dev.basalt.fs.gpt.GptTable#writeTo}, and read an existing disk's table back with
 * {@link dev.basalt.fs.gpt.GptTable#read} (CRC-checked, falling back to the backup copy).
 */
package dev.basalt.fs.gpt;
