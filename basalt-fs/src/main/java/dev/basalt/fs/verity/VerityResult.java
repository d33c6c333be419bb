package dev.basalt.fs.verity;

import java.util.HexFormat;
import java.util.UUID;

/**
 * Outcome of building a hash tree.
 *
 * @param rootHash lowercase hex root hash (what {@code roothash=} and {@code veritysetup verify} take)
 * @param saltHex lowercase hex salt ({@code ""} for none)
 * @param uuid superblock UUID
 * @param dataBlocks number of 4 KiB data blocks covered
 * @param hashDeviceSize bytes of the hash device: superblock block plus the tree
 */
public record VerityResult(String rootHash, String saltHex, UUID uuid, long dataBlocks, long hashDeviceSize) {

  /** Root hash as bytes. */
  public byte[] rootHashBytes() { return HexFormat.of().parseHex(rootHash); }

  /** Kernel table line for dm-verity, for the given device paths (hash tree right after the superblock). */
  public String kernelTable(String dataDevice, String hashDevice) {
    return "0 " + dataBlocks * 8 + " verity 1 " + dataDevice + " " + hashDevice + " 4096 4096 " + dataBlocks
        + " 1 sha256 " + rootHash + " " + (saltHex.isEmpty() ? "-" : saltHex);
  }
}
