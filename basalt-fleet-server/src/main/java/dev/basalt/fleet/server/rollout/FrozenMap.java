package dev.basalt.fleet.server.rollout;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An unmodifiable view of a map the engine built and no longer touches, so that the public records can take it
 * without a second copy (a copy of 100,000 entries per step is most of a step's garbage).
 */
final class FrozenMap<K, V> extends AbstractMap<K, V> {
  private final Map<K, V> map;

  private FrozenMap(Map<K, V> map) {
    this.map = map;
  }

  /** Takes ownership of {@code built}: the caller must not change it afterwards. */
  static <K, V> Map<K, V> of(LinkedHashMap<K, V> built) {
    return new FrozenMap<>(built);
  }

  /** {@code m} itself when it is frozen already, else an unmodifiable copy keeping its order. */
  static <K, V> Map<K, V> copyOf(Map<K, V> m) {
    return m instanceof FrozenMap<K, V> f ? f : new FrozenMap<>(new LinkedHashMap<>(m));
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    return Collections.unmodifiableMap(map).entrySet();
  }

  @Override
  public V get(Object key) {
    return map.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return map.containsKey(key);
  }

  @Override
  public int size() {
    return map.size();
  }
}
