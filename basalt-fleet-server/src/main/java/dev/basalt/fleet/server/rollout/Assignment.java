package dev.basalt.fleet.server.rollout;

import java.util.Objects;

/**
 * What a device's desired state becomes.
 *
 * @param imageRef the reference to deploy
 * @param digest the manifest digest it must resolve to
 * @param rebootAllowed whether the device may reboot into it once staged; false means download and stage only
 */
public record Assignment(String imageRef, String digest, boolean rebootAllowed) {
  public Assignment {
    Objects.requireNonNull(imageRef, "imageRef");
    Objects.requireNonNull(digest, "digest");
  }

  static Assignment of(ImageTarget t, boolean rebootAllowed) {
    return new Assignment(t.imageRef(), t.digest(), rebootAllowed);
  }
}
