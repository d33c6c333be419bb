package dev.basalt.api.fleet;

import java.util.Map;

/**
 * A change to a device, {@code PATCH /api/v1/devices/{id}}; null fields are left as they are.
 *
 * @param name new human name
 * @param labels the complete new label set (replaces the old one)
 */
public record DeviceUpdate(String name, Map<String, String> labels) {
  public DeviceUpdate {
    labels = labels == null ? null : Map.copyOf(labels);
  }
}
