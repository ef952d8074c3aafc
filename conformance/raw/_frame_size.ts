/**
 * Gotalk frame sizes read straight from the wire bytes, so that `RawConn` knows how many bytes a
 * decoded message took and can wait for a frame of known length without decoding it again.
 *
 * @module
 */

import type { Message } from "../../src/protocol/mod.ts";

/**
 * The length of the frame starting `b`, from its header, or -1 when that is not known yet or the
 * header is not valid (the decoder then says why).
 */
export function expectedLength(b: Uint8Array): number {
  const hex = (from: number, n: number): number => {
    if (from < 0 || b.length < from + n) return -1;
    let v = 0;
    for (let i = from; i < from + n; i++) {
      const c = b[i] | 0x20; // ASCII lower case for letters
      const d = b[i] >= 0x30 && b[i] <= 0x39 ? b[i] - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  const sum = (...parts: number[]): number =>
    parts.some((x) => x < 0) ? -1 : parts.reduce((a, x) => a + x);
  switch (String.fromCharCode(b[0])) {
    case "r":
    case "s": {
      const name = hex(5, 3);
      return name < 0 ? -1 : sum(16 + name, hex(8 + name, 8));
    }
    case "n": {
      const name = hex(1, 3);
      return name < 0 ? -1 : sum(12 + name, hex(4 + name, 8));
    }
    case "p":
    case "R":
    case "S":
    case "E":
      return sum(13, hex(5, 8));
    case "e":
      return sum(21, hex(13, 8));
    case "h":
      return 13;
    case "f":
      return 9;
  }
  return -1;
}

/** The wire size of the decoded frame `m` at the start of `bytes`. */
export function frameSize(bytes: Uint8Array, m: Message): number {
  const hex = (from: number, n: number): number => {
    let v = 0;
    for (let i = from; i < from + n; i++) v = v * 16 + parseInt(String.fromCharCode(bytes[i]), 16);
    return v;
  };
  switch (m.type) {
    case "r":
    case "s":
      return 16 + hex(5, 3) + m.payload.length;
    case "n":
      return 12 + hex(1, 3) + m.payload.length;
    case "e":
      return 21 + m.payload.length;
    case "h":
      return 13;
    case "f":
      return 9;
    case "handshake":
      return 2;
    default:
      return 13 + m.payload.length;
  }
}
