package dev.basalt.api.fleet;

/**
 * A certificate renewal, {@code POST /device/v1/renew} over mTLS with the current certificate.
 *
 * @param csr a CSR for a new key, PEM; the new certificate replaces the old one at once
 */
public record RenewRequest(String csr) {}
