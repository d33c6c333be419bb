package dev.basalt.api.fleet;

/**
 * What a device should run, {@code GET /device/v1/desired} (long-poll; the ETag is {@code "<revision>"}).
 *
 * @param revision increases on every change of this device's desired state
 * @param imageRef the reference to deploy (without digest); null when nothing is assigned
 * @param digest the manifest digest it is pinned to; null when nothing is assigned
 * @param rebootAllowed whether the device may reboot into it now (else stage only)
 * @param fleet the fleet that assigned it; null when none
 */
public record DesiredState(long revision, String imageRef, String digest, boolean rebootAllowed, String fleet) {
  public DesiredState {
    Digests.check("digest", digest);
  }

  /** The ETag header value of this state. */
  public String etag() {
    return "\"" + revision + "\"";
  }
}
