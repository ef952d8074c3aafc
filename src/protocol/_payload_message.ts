// This module is browser compatible.

/**
 * The message a decoded header and its payload make, for the decoder. Internal: not part of
 * the public API.
 *
 * @module
 */

import type { Message } from "./message.ts";

/**
 * The message of type byte `type` (`r`, `s`, `n`, `e`, `p`, `R`, `S`, else `E`) with the fields
 * its header carried (`name` for requests and notifications, `wait` for a retry) and `payload`.
 */
export function payloadMessage(
  type: number,
  id: number,
  name: string,
  wait: number,
  payload: Uint8Array,
): Message {
  switch (type) {
    case 0x72:
      return { type: "r", id, name, payload };
    case 0x73:
      return { type: "s", id, name, payload };
    case 0x6e:
      return { type: "n", name, payload };
    case 0x65:
      return { type: "e", id, wait, payload };
    case 0x70:
      return { type: "p", id, payload };
    case 0x52:
      return { type: "R", id, payload };
    case 0x53:
      return { type: "S", id, payload };
    default:
      return { type: "E", id, payload };
  }
}
