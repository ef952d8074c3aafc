/**
 * How the driver describes bytes and messages in verdict details.
 *
 * @module
 */

import type { Message } from "../../src/protocol/mod.ts";

/** Printable preview of some bytes: ASCII as is, the rest as `\xNN`, truncated. */
export function preview(bytes: Uint8Array, max = 60): string {
  let s = "";
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    s += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : b === 0x5c
      ? "\\\\"
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

/** A one-line description of a message, for verdict details. */
export function describeMessage(m: Message): string {
  const id = (n: number): string =>
    preview(new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  switch (m.type) {
    case "handshake":
      return `version ${m.version}`;
    case "h":
      return `h load=${m.load} time=${m.time}`;
    case "f":
      return `f code=${m.code}`;
    case "n":
      return `n ${JSON.stringify(m.name.slice(0, 40))} "${preview(m.payload)}"`;
    case "r":
    case "s":
      return `${m.type} id="${id(m.id)}" op=${JSON.stringify(m.name.slice(0, 40))} "${
        preview(m.payload)
      }"`;
    case "e":
      return `e id="${id(m.id)}" wait=${m.wait} "${preview(m.payload)}"`;
    default:
      return `${m.type} id="${id(m.id)}" "${preview(m.payload)}"`;
  }
}
