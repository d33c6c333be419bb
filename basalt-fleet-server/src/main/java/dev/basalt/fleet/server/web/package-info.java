/**
 * The fleet web UI: server-rendered pages (fleets, versions, rollouts with live progress over SSE, devices, enrollment
 * approvals) on the plain listener, signed in with an admin token held in a server-side session. Mounted by
 * {@link dev.basalt.fleet.server.web.FleetUi#register}.
 */
package dev.basalt.fleet.server.web;
