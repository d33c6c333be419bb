package dev.basalt.oci.merge;

import java.io.IOException;

/**
 * A layer that cannot be merged: bad digest or size, an unsafe or contradictory entry. The message
 * names the layer (its digest) and, where there is one, the entry.
 */
public class LayerMergeException extends IOException {
  private final String layer;
  private final String entry;

  public LayerMergeException(String layer, String entry, String message) {
    super(layer + ": " + (entry == null ? "" : "entry '" + entry + "': ") + message);
    this.layer = layer;
    this.entry = entry;
  }

  /** How the layer was named, e.g. {@code "layer sha256:…"}. */
  public String layer() { return layer; }

  /** The offending entry's name as archived, or {@code null}. */
  public String entry() { return entry; }

  /**
   * A path that occurs twice in one layer after its first occurrence was already streamed to the
   * sink. Tar's rule is "last wins"; to apply it the merge must scan the layer's headers first:
   * discard the sink's output and run again with {@link LayerMerge.Builder#prescan(boolean)}.
   */
  public static final class DuplicateEntry extends LayerMergeException {
    public DuplicateEntry(String layer, String entry, String message) {
      super(layer, entry, message);
    }
  }
}
