/**
 * The wire records of the fleet protocol (JSON via {@link dev.basalt.api.ApiJson}).
 *
 * <p>Device side (TLS listener, {@code /device/v1}): {@link EnrollRequest} / {@link EnrollResponse} without a client
 * certificate; then, over mTLS, {@link DesiredState} (long-poll with ETag), {@link StatusReport} and
 * {@link RenewRequest} / {@link EnrollResponse}. Admin side (plain listener, {@code /api/v1}, bearer token):
 * {@link DeviceInfo}, {@link DeviceUpdate}, {@link FleetSpec}, {@link FleetInfo}, {@link EnrollmentTokenRequest},
 * {@link EnrollmentTokenInfo}, {@link AdminTokenRequest}, {@link AdminTokenInfo}, {@link AuditEntry}, and rollouts: {@link RolloutRequest}, {@link RolloutInfo},
 * {@link RolloutEventInfo}, {@link RolloutAction}; a fleet may carry a {@link SignatureRequirement}. Every error is an
 * {@link ApiError}. Fleets select devices with a {@link LabelSelector}.
 */
package dev.basalt.api.fleet;
