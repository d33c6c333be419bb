package dev.basalt.oci.tar;

/** The kinds of tar entries Basalt reads and writes. Contiguous files ('7') read as {@link #REGULAR}. */
public enum TarType {
  REGULAR('0'),
  HARDLINK('1'),
  SYMLINK('2'),
  CHAR_DEVICE('3'),
  BLOCK_DEVICE('4'),
  DIRECTORY('5'),
  FIFO('6');

  private final char flag;

  TarType(char flag) { this.flag = flag; }

  /** The typeflag byte written for this type. */
  public char flag() { return flag; }
}
