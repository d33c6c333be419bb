/**
 * The node side: {@link dev.basalt.node.Node} (booted slot, reconcile, status, rollback),
 * {@link dev.basalt.node.Updater} (the update path into the inactive slot), {@link dev.basalt.node.BootEntries}
 * (ESP entries with boot counting), {@link dev.basalt.node.NodeState} ({@code /var/lib/basalt/state.json}).
 * {@link dev.basalt.node.NodeEnvironment#sysroot} runs all of it against a disk image file and an ESP directory.
 */
package dev.basalt.node;
