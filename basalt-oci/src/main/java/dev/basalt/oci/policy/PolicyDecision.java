package dev.basalt.oci.policy;

/**
 * The verdict of a {@link SignaturePolicy} for one image.
 *
 * @param reason for a rejection: precisely why (which scope, which requirement, what each signature lacked); for an
 *     acceptance: what allowed it
 */
public record PolicyDecision(boolean accepted, String reason) {
  public static PolicyDecision accept(String why) {
    return new PolicyDecision(true, why);
  }

  public static PolicyDecision reject(String why) {
    return new PolicyDecision(false, why);
  }
}
