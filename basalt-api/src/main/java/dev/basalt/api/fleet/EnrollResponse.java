package dev.basalt.api.fleet;

/**
 * The server's answer to an enrollment, to {@code GET /device/v1/enroll/{id}} and to a renewal.
 *
 * @param deviceId the id the server gave the device (also the CN of its certificate)
 * @param state {@code pending} until approved, then {@code active}
 * @param certificate the device certificate, PEM; null while pending
 * @param caCertificate the fleet CA certificate, PEM (trust anchor of the device listener); null while pending
 * @param retryAfterSeconds while pending: when to ask again
 */
public record EnrollResponse(String deviceId, DeviceState state, String certificate, String caCertificate,
    int retryAfterSeconds) {}
