// This module is browser compatible.
// The payload helpers the parts of the peer share: JSON values and texts as UTF-8, and joining
// the parts of a payload.

import { type PayloadKind, PayloadTooLargeError } from "./errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown by {@linkcode check} for a value JSON cannot carry: what it is, and its key. */
class Unfaithful {
  constructor(readonly what: string, readonly key: string) {}
}

/**
 * Refuses what `JSON.stringify` would silently drop or change: `undefined`, functions and
 * symbols (dropped, or `null` in arrays), `Map` and `Set` (sent as `{}`), `BigInt`. A walk
 * before stringifying, because a replacer takes the engines off their fast path. Past `depth`
 * 256 it stops (a cycle, which `JSON.stringify` then reports).
 */
function check(v: unknown, key: string, depth: number): void {
  const t = typeof v;
  if (t === "object") {
    if (v === null || depth > 256) return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) check(v[i], String(i), depth + 1);
      return;
    }
    if (v instanceof Map) throw new Unfaithful("a Map", key);
    if (v instanceof Set) throw new Unfaithful("a Set", key);
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return;
    for (const k in v) {
      if (Object.hasOwn(v, k)) check((v as Record<string, unknown>)[k], k, depth + 1);
    }
  } else if (t === "undefined" || t === "function" || t === "symbol" || t === "bigint") {
    throw new Unfaithful(t === "undefined" ? "undefined" : `a ${t}`, key);
  }
}

/**
 * Encodes a JSON value as UTF-8 (`undefined` as an empty payload).
 *
 * @param kind What the value is, for the error: `request`, `result of`, `notification`.
 * @param op The operation (or notification name), for the error.
 * @throws {TypeError} If JSON cannot carry the value faithfully (see {@linkcode check}, and
 * cycles), naming `kind` and `op`.
 */
export function encodeJson(value: unknown, kind: string, op: string): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  let text: string;
  try {
    check(value, "", 0);
    text = JSON.stringify(value);
  } catch (e) {
    const why = e instanceof Unfaithful
      ? `it holds ${e.what}${e.key === "" ? "" : ` (at key ${JSON.stringify(e.key)})`}`
      : e instanceof Error
      ? e.message
      : String(e);
    throw new TypeError(`The ${kind} "${op}" cannot be sent as JSON: ${why}`, { cause: e });
  }
  return encoder.encode(text);
}

/** Decodes a UTF-8 JSON payload (an empty payload as `undefined`). */
export function decodeJson(payload: Uint8Array): unknown {
  return payload.length === 0 ? undefined : JSON.parse(decoder.decode(payload));
}

/** Encodes a text (an ErrorResult's message) as UTF-8. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes a UTF-8 payload as text. */
export function decodeText(payload: Uint8Array): string {
  return decoder.decode(payload);
}

/** The message of an error, or the text of anything else thrown. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Joins the parts of a payload (one part is returned as it is). */
export function concatParts(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The error for a payload over `limit` that is about to be sent, or `undefined`. */
export function oversize(
  op: string,
  payload: Uint8Array,
  limit: number,
  kind: PayloadKind,
): PayloadTooLargeError | undefined {
  if (payload.length <= limit) return undefined;
  return new PayloadTooLargeError(op, payload.length, limit, { kind });
}
