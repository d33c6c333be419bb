/**
 * Records shared by the node and the fleet server: the status JSON shapes ({@link dev.basalt.api.NodeStatus},
 * {@link dev.basalt.api.Deployment}), with a JSON schema on the class path. Later also the fleet wire protocol.
 */
package dev.basalt.api;
