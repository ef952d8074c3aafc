// This module is browser compatible.
// The payload helpers the parts of the peer share: JSON values and texts as UTF-8, and joining
// the parts of a payload.

import { type PayloadKind, PayloadTooLargeError } from "./errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a JSON value as UTF-8 (`undefined` as an empty payload). */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  return text === undefined ? new Uint8Array(0) : encoder.encode(text);
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
