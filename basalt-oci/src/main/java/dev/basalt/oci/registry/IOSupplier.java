package dev.basalt.oci.registry;

import java.io.IOException;

/** Opens content again for each attempt (uploads are retried from the start). */
@FunctionalInterface
public interface IOSupplier<T> {
  T get() throws IOException;
}
