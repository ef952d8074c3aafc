// This module is browser compatible.

/**
 * Where a Gotalk frame's header ends and how much payload follows, for code that cuts a byte
 * stream at frame boundaries without decoding it (the decoder, and the WebSocket writer that
 * sends each header and payload as one message). Pure, synchronous and allocation-free.
 * Internal: not part of the public API.
 *
 * @module
 */

import { HEX_VALUE } from "./_util.ts";

/**
 * The length of the header that starts at `buf[pos]`, judged from the `avail` bytes there:
 *
 * - `> 0`: the header's length in bytes, name included;
 * - `< 0`: minus the number of bytes needed before the length is known (the type, id and name
 *   length of `r`, `s` and `n`), when fewer are available and those seen are valid so far;
 * - `0`: the bytes cannot start a header: an unknown type byte, or a name length digit that is
 *   not `0-9a-fA-F` (reported as soon as it is seen, before the field is complete).
 *
 * The name length is not checked against any limit, and the other fields are not looked at.
 *
 * @param buf The bytes.
 * @param pos Where the header starts; `avail` must be at least 1.
 * @param avail How many bytes from `pos` on are available.
 * @returns The header length, minus the bytes needed to know it, or 0.
 */
export function headerLength(buf: Uint8Array, pos: number, avail: number): number {
  let digits: number; // where the name length digits start
  switch (buf[pos]) {
    case 0x72: // r
    case 0x73: // s: type, id, name length, name, size
      digits = pos + 5;
      break;
    case 0x6e: // n: type, name length, name, size
      digits = pos + 1;
      break;
    case 0x70: // p
    case 0x52: // R
    case 0x53: // S
    case 0x45: // E: type, id, size
    case 0x68: // h: type, load, time
      return 13;
    case 0x65: // e: type, id, wait, size
      return 21;
    case 0x66: // f: type, code
      return 9;
    default:
      return 0;
  }
  const end = pos + avail;
  let n = 0;
  for (let i = digits; i < digits + 3; i++) {
    if (i >= end) return pos - digits - 3; // minus the prefix length
    const v = HEX_VALUE[buf[i]];
    if (v < 0) return 0;
    n = n * 16 + v;
  }
  return digits - pos + 3 + n + 8;
}

/**
 * The payload size a complete header declares: 0 for `h` and `f`, which carry none, and -1 if
 * its size field is not 8 hex digits.
 *
 * @param buf The bytes.
 * @param pos Where the header starts.
 * @param length The header's length, from {@linkcode headerLength}.
 * @returns The payload size, or -1.
 */
export function payloadSize(buf: Uint8Array, pos: number, length: number): number {
  const type = buf[pos];
  if (type === 0x68 || type === 0x66) return 0; // h, f
  let n = 0;
  for (let i = pos + length - 8; i < pos + length; i++) {
    const v = HEX_VALUE[buf[i]];
    if (v < 0) return -1;
    n = n * 16 + v;
  }
  return n;
}
