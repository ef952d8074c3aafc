// This module is browser compatible.
// Shared empty collections: what a peer's tables hold until their first entry, so that an idle
// connection keeps no Map of its own (each costs a table of a few hundred bytes).

/** A Map that stays empty: reads work as on any empty Map; `set` throws (a bug, not a use). */
class EmptyMap extends Map<never, never> {
  override set(): this {
    throw new TypeError("The shared empty map is read-only");
  }
}

const EMPTY_MAP = new EmptyMap();

/** The shared empty Map, typed for a table; replace it with a Map of its own before a `set`. */
export function emptyMap<K, V>(): Map<K, V> {
  return EMPTY_MAP as unknown as Map<K, V>;
}

/** Whether `map` is the shared empty Map (so a table must make its own before adding). */
export function isEmptyMap(map: ReadonlyMap<unknown, unknown>): boolean {
  return map === EMPTY_MAP;
}
