/**
 * Records shared by the node and the fleet server: the status JSON shapes ({@link dev.basalt.api.NodeStatus},
 * {@link dev.basalt.api.Deployment}), with a JSON schema on the class path; the fleet wire protocol is in {@code dev.basalt.api.fleet}.
 */
package dev.basalt.api;
