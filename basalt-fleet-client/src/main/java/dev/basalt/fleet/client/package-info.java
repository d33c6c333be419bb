/** The device and admin clients of the fleet protocol. */
package dev.basalt.fleet.client;
