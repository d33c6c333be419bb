package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A new enrollment token, {@code POST /api/v1/enrollment-tokens}.
 *
 * @param name what it is for (e.g. the image it is baked into)
 * @param labels labels every device enrolling with it gets (override the device's own claims)
 * @param autoApprove a {@link LabelSelector}: a device whose final labels match is approved at once; null: never
 * @param expiresAt when it stops working; null: never
 * @param maxUses how many enrollments it allows; 0: unlimited
 */
public record EnrollmentTokenRequest(String name, Map<String, String> labels, String autoApprove, Instant expiresAt,
    int maxUses) {
  public EnrollmentTokenRequest {
    Objects.requireNonNull(name, "enrollment token name is missing");
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    LabelSelector.checkLabels(labels);
    if (autoApprove != null) LabelSelector.parse(autoApprove);
    if (maxUses < 0) throw new IllegalArgumentException("maxUses must be >= 0, got " + maxUses);
  }
}
