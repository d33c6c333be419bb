package dev.basalt.api.fleet;

import java.util.Map;

/**
 * What a device sends to {@code POST /device/v1/enroll} (no client certificate yet).
 *
 * @param token the enrollment token baked into its image ({@code bet_...})
 * @param csr its PKCS#10 certificate signing request, PEM (EC P-256 key; the subject is ignored, the server names it)
 * @param name a human name (hostname); null lets the server use the device id
 * @param labels labels the device claims; labels set by the enrollment token override them
 */
public record EnrollRequest(String token, String csr, String name, Map<String, String> labels) {
  public EnrollRequest {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }
}
