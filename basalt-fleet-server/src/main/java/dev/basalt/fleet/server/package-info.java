/** The fleet server. */
package dev.basalt.fleet.server;
