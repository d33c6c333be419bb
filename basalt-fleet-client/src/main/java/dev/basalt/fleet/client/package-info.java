/**
 * The device and admin clients of the fleet protocol over java.net.http: {@link dev.basalt.fleet.client.DeviceClient}
 * (enrollment, mTLS long-poll of the desired state, status reports, certificate renewal) and
 * {@link dev.basalt.fleet.client.AdminClient} (typed admin API). Errors are {@link dev.basalt.fleet.client.FleetClientException}
 * with the HTTP status and the server's message.
 */
package dev.basalt.fleet.client;
