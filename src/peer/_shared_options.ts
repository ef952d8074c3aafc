// This module is browser compatible.
// The peers made from one options object (a server's, one for every connection it accepts)
// share one set of resolved options, as long as the object's properties are the same as when
// it was resolved: a connection does not keep a copy of its own.

import type { Contract } from "./contract.ts";
import { type PeerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";

/** What an options object held when it was resolved (arrays by their elements, as copied). */
interface Resolved {
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
  /** The default logger then (a change of `globalThis.console` is seen, as before). */
  readonly console: unknown;
  readonly resolved: ResolvedOptions;
}

const byOptions = new WeakMap<object, Resolved>();

/** The options of a peer made without any: every such peer shares one resolved set. */
export const NO_OPTIONS: PeerOptions<Contract, Contract> = Object.freeze({});

const consoleNow = (): unknown => (globalThis as { console?: unknown }).console;

/** A property's value as it was resolved: an array by its elements (the resolved copy them). */
function snapshot(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}

function same(then: unknown, now: unknown): boolean {
  if (!Array.isArray(then)) return then === now;
  if (!Array.isArray(now) || now.length !== then.length) return false;
  for (let i = 0; i < then.length; i++) if (then[i] !== now[i]) return false;
  return true;
}

/** Whether `options` holds what it held when `r` was resolved from it. */
function unchanged(r: Resolved, options: Record<string, unknown>, keys: string[]): boolean {
  if (r.console !== consoleNow() || keys.length !== r.keys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== r.keys[i] || !same(r.values[i], options[keys[i]])) return false;
  }
  return true;
}

/**
 * {@linkcode resolveOptions} of `options`, the same object as last time for the same plain
 * options object with the same properties (the resolved options are read-only).
 *
 * @throws {RangeError} If an option is out of range.
 */
export function sharedOptions(options: PeerOptions<Contract, Contract>): ResolvedOptions {
  const proto = Object.getPrototypeOf(options);
  // Options that inherit properties are resolved each time (their own keys do not tell all).
  if (proto !== Object.prototype && proto !== null) return resolveOptions(options);
  const record = options as Record<string, unknown>;
  const keys = Object.keys(options);
  const hit = byOptions.get(options);
  if (hit !== undefined && unchanged(hit, record, keys)) return hit.resolved;
  const resolved = resolveOptions(options);
  byOptions.set(options, {
    keys,
    values: keys.map((k) => snapshot(record[k])),
    console: consoleNow(),
    resolved,
  });
  return resolved;
}
