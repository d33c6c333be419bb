/**
 * The fleet server. Public surface: {@link dev.basalt.fleet.server.FleetServer} (builder, start, stop, bound ports,
 * CA certificate, routes). Internals: {@code store} (JDBI + Flyway, SQLite or PostgreSQL, audit rows in the same
 * transaction as each change), {@code identity} (CA, tokens, enrollment rate limit), {@code http} (admin API, device
 * API, OpenAPI at {@code /openapi} from {@code openapi.yaml}, Prometheus metrics), {@code controller} (membership and
 * desired state under a cross-replica lock; the rollout engine plugs into {@code FleetController.assign}).
 */
package dev.basalt.fleet.server;
