package dev.basalt.fleet.server.http;

import dev.basalt.fleet.server.controller.FleetController;
import dev.basalt.fleet.server.controller.Rollouts;
import dev.basalt.fleet.server.controller.TargetSignatures;
import dev.basalt.fleet.server.identity.CertificateAuthority;
import dev.basalt.fleet.server.identity.EnrollmentLimiter;
import dev.basalt.fleet.server.store.Store;
import java.time.Duration;

/**
 * What the HTTP handlers share.
 *
 * @param maxWait cap of a long poll's {@code ?wait=}
 * @param maxBodyBytes largest accepted request body
 * @param certificateValidity lifetime of device certificates
 * @param enrollRetryAfterSeconds what a pending device is told to wait between asks
 * @param rollouts rollout persistence and engine calls
 * @param signatures the check of fleet targets' signatures
 */
public record ServerContext(Store store, CertificateAuthority ca, FleetController controller, DesiredWaiters waiters,
    Metrics metrics, EnrollmentLimiter limiter, Duration maxWait, long maxBodyBytes, Duration certificateValidity,
    int enrollRetryAfterSeconds, Rollouts rollouts, TargetSignatures signatures) {}
