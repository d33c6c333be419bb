package dev.basalt.node;

import dev.basalt.api.Deployment;
import java.util.List;
import java.util.Objects;

/**
 * What a slot holds, kept on the ESP beside its kernel so the node can rebuild its state from the
 * disk alone.
 *
 * @param deployment the deployment (its serial is the one it was written with; the entry name has the current one)
 * @param imageKargs the kernel arguments the image itself asked for ({@code kargs.d}); the rest of an
 *     entry's options beyond Basalt's own are local and carried over to the next deployment
 */
public record SlotRecord(Deployment deployment, List<String> imageKargs) {
  public SlotRecord {
    Objects.requireNonNull(deployment, "deployment");
    imageKargs = imageKargs == null ? List.of() : List.copyOf(imageKargs);
  }
}
