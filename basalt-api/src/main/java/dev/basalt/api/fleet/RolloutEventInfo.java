package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Map;

/**
 * One persisted transition of a rollout ({@code GET /api/v1/rollouts/{id}/events?after=SEQ}).
 *
 * @param seq 1, 2, 3… without gaps within the rollout
 * @param time when it happened
 * @param type PLANNED, STARTED, WAVE_STARTED, REBOOT_RELEASED, DEVICE_SUCCEEDED, DEVICE_FAILED, PAUSED, … (the rollout
 *     engine's event types)
 * @param wave the wave concerned, or null
 * @param deviceId the device concerned, or null
 * @param counts figures that go with it (e.g. {@code site=a.unavailable} and {@code site=a.allowed} on a reboot
 *     release); never null
 * @param message a human-readable sentence
 */
public record RolloutEventInfo(long seq, Instant time, String type, Integer wave, String deviceId,
    Map<String, Integer> counts, String message) {}
