package dev.basalt.fs.gpt;

import java.util.UUID;

/** Partition type GUIDs used by Basalt (UEFI and the Discoverable Partitions Specification). */
public final class PartitionTypes {
  private PartitionTypes() {}

  public static final UUID EFI_SYSTEM = UUID.fromString("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  public static final UUID ROOT_X86_64 = UUID.fromString("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
  public static final UUID ROOT_VERITY_X86_64 = UUID.fromString("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5");
  public static final UUID ROOT_ARM64 = UUID.fromString("b921b045-1df0-41c3-af44-4c6f280d3fae");
  public static final UUID ROOT_VERITY_ARM64 = UUID.fromString("df3300ce-d69f-4c92-978c-9bfb0f38d820");
  public static final UUID VAR = UUID.fromString("4d21b016-b534-45c2-a9fb-5c16e091fd2d");
  public static final UUID LINUX_DATA = UUID.fromString("0fc63daf-8483-4772-8e79-3d69d8477de4");
  public static final UUID BIOS_BOOT = UUID.fromString("21686148-6449-6e6f-744e-656564454649");
}
