package dev.basalt.fleet.server.http;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wakes long polls when a device's desired state changes: a poll takes the device's future before it reads the
 * database (so a change between the read and the wait is not lost) and waits on it; a change completes it.
 */
public final class DesiredWaiters {
  private final ConcurrentHashMap<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();

  CompletableFuture<Void> register(String deviceId) {
    return waiting.computeIfAbsent(deviceId, k -> new CompletableFuture<>());
  }

  /** Wakes the polls of these devices. */
  public void changed(Collection<String> deviceIds) {
    for (String id : deviceIds) {
      CompletableFuture<Void> f = waiting.remove(id);
      if (f != null) f.complete(null);
    }
  }

  /** Wakes every poll (server stop). */
  public void wakeAll() {
    changed(waiting.keySet());
  }
}
