package dev.basalt.fleet.server.rollout;

/**
 * At most {@code maxUnavailable} of the devices of each group of the fleet sharing a value of {@code labelKey} (e.g.
 * each {@code site}) may be unavailable at any moment. Devices without the label form one group of their own.
 *
 * @param labelKey the label whose values form the groups
 * @param maxUnavailable a count or a percentage of each group (see {@link Quantity#ofBudget})
 */
public record DisruptionBudget(String labelKey, Quantity maxUnavailable) {
  public DisruptionBudget {
    if (labelKey == null || labelKey.isBlank()) throw new IllegalArgumentException("budget label key must not be blank");
    if (maxUnavailable == null) throw new IllegalArgumentException("budget for \"" + labelKey + "\": maxUnavailable must be set");
  }

  /** How many devices of a group of {@code size} may be unavailable at once. */
  public int allowed(int size) {
    return maxUnavailable.ofBudget(size);
  }

  /** The group of a device: its value of the label, or "" when it has none. */
  String groupOf(java.util.Map<String, String> labels) {
    String v = labels.get(labelKey);
    return v == null ? "" : v;
  }
}
