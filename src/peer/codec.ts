// This module is browser compatible.
// The value codec: how request values, results and notification values become payloads. JSON
// is the default and the only encoding the Go reference and gotalk.js speak; both ends of a
// connection may agree on another (MessagePack, CBOR) through the `codec` option.

import { decodeJson, encodeJson, errorText } from "./_payload.ts";

/**
 * How a peer turns the values of `request`, `notify`, `handle` and `handleNotification` into
 * payloads and back: JSON ({@linkcode jsonCodec}) unless both ends agree on another through
 * the `codec` option of their `Peer`. Buffer and streaming requests, and ErrorResults, are not
 * encoded. An `undefined` value is an empty payload and an empty payload `undefined`, whatever
 * the codec, so `encode` never sees `undefined` and `decode` never sees an empty payload.
 *
 * A binary codec carries `Uint8Array` values natively. MessagePack over `@msgpack/msgpack`:
 *
 * ```ts ignore
 * import { decode, encode } from "@msgpack/msgpack";
 * const msgpack: ValueCodec = { name: "msgpack", encode: (v) => encode(v), decode: (b) => decode(b) };
 * ```
 *
 * @example A codec that sends JSON as base64 text, used by both ends
 * ```ts
 * import { Handlers, Peer, pipePair, type ValueCodec } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const base64: ValueCodec = {
 *   name: "base64-json",
 *   encode: (v) => new TextEncoder().encode(btoa(JSON.stringify(v))),
 *   decode: (b) => JSON.parse(atob(new TextDecoder().decode(b))),
 * };
 * const [a, b] = pipePair();
 * const handlers = new Handlers().handle("sum", (xs: number[]) => xs.reduce((s, x) => s + x, 0));
 * const server = new Peer(a, { handlers, codec: base64 });
 * const client = new Peer(b, { codec: base64 });
 * assert.equal(await client.request("sum", [1, 2, 3]), 6);
 * client.abort();
 * server.abort();
 * ```
 */
export interface ValueCodec {
  /**
   * A short name for error messages (`msgpack`, `cbor`).
   *
   * @default {undefined}
   */
  readonly name?: string;
  /** Encodes a value (never `undefined`); throws if it cannot. */
  encode(value: unknown): Uint8Array;
  /** Decodes a payload (never empty); throws if it is not valid. */
  decode(payload: Uint8Array): unknown;
}

/**
 * The default codec: JSON as UTF-8, the encoding of the Go reference and gotalk.js. It refuses
 * what JSON cannot carry faithfully (`undefined` inside a value, functions, `Map`, `Set`,
 * `BigInt`, cycles) with a `TypeError` instead of changing it.
 *
 * @example Usage
 * ```ts
 * import { jsonCodec } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const bytes = jsonCodec.encode({ room: "general" });
 * assert.equal(new TextDecoder().decode(bytes), '{"room":"general"}');
 * assert.deepEqual(jsonCodec.decode(bytes), { room: "general" });
 * assert.throws(() => jsonCodec.encode(new Map()), TypeError);
 * ```
 */
export const jsonCodec: ValueCodec = Object.freeze({
  name: "json",
  encode: (value: unknown): Uint8Array => encodeJson(value, "value", "json"),
  decode: decodeJson,
});

const EMPTY = new Uint8Array(0);

/**
 * Encodes a value with `codec` (`undefined`: JSON, with the JSON errors naming `kind` and `op`).
 *
 * @throws {TypeError} If the codec cannot encode it, naming `kind` and `op`.
 */
export function encodeValue(
  codec: ValueCodec | undefined,
  value: unknown,
  kind: string,
  op: string,
): Uint8Array {
  if (codec === undefined || codec === jsonCodec) return encodeJson(value, kind, op);
  if (value === undefined) return EMPTY;
  let out: unknown;
  try {
    out = codec.encode(value);
  } catch (e) {
    const as = codec.name === undefined ? "" : ` as ${codec.name}`;
    throw new TypeError(`The ${kind} "${op}" cannot be encoded${as}: ${errorText(e)}`, {
      cause: e,
    });
  }
  if (!(out instanceof Uint8Array)) {
    throw new TypeError(`The codec${codec.name ? ` ${codec.name}` : ""} returned no Uint8Array`);
  }
  return out;
}

/** Decodes a payload with `codec` (`undefined`: JSON); an empty payload is `undefined`. */
export function decodeValue(codec: ValueCodec | undefined, payload: Uint8Array): unknown {
  if (codec === undefined) return decodeJson(payload);
  return payload.length === 0 ? undefined : codec.decode(payload);
}
