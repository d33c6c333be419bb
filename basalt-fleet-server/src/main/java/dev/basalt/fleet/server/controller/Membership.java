package dev.basalt.fleet.server.controller;

import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.fleet.server.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Which fleet a device belongs to: the one fleet whose selector matches its labels; two or more is an error. */
public final class Membership {
  private Membership() {}

  /** The fleets whose selectors match, by name. */
  public static List<String> matching(Map<String, LabelSelector> fleets, Map<String, String> labels) {
    List<String> out = new ArrayList<>();
    fleets.forEach((name, sel) -> {
      if (sel.matches(labels)) out.add(name);
    });
    return out;
  }

  /**
   * Refuses a state in which a device would belong to two fleets.
   *
   * @throws StoreException CONFLICT naming the first such device and its fleets
   */
  public static void requireDisjoint(Map<String, LabelSelector> fleets, Map<String, Map<String, String>> devices) {
    for (var d : devices.entrySet()) {
      List<String> m = matching(fleets, d.getValue());
      if (m.size() > 1) {
        throw new StoreException(StoreException.Kind.CONFLICT, "device " + d.getKey() + " (labels " + d.getValue()
            + ") would belong to fleets " + String.join(" and ", m) + "; a device can be in one fleet only");
      }
    }
  }
}
