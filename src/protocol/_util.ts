// This module is browser compatible.
// Private helpers shared by the encoder and the decoder.

/** Hex digit values by byte; -1 for anything that is not exactly `0-9a-fA-F`. */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x61 + i] = 10 + i;
    t[0x41 + i] = 10 + i;
  }
  return t;
})();

/** Lowercase hex digit bytes by value. */
export const HEX_DIGIT: Uint8Array = new TextEncoder().encode("0123456789abcdef");

/** Throws a RangeError unless `n` is an integer in [0, max]. */
export function checkUint(n: number, max: number, what: string): void {
  if (!(n >= 0 && n <= max && Math.floor(n) === n)) {
    throw new RangeError(`${what} must be an integer from 0 to ${max}, got ${n}`);
  }
}

/** Writes `value` as `digits` lowercase hex digits at `buf[pos]`. */
export function writeHex(buf: Uint8Array, pos: number, value: number, digits: number): void {
  for (let i = pos + digits - 1; i >= pos; i--) {
    buf[i] = HEX_DIGIT[value & 0xf];
    value = value >>> 4;
  }
}

const utf8Encoder = new TextEncoder();

/** The UTF-8 bytes of `s`, or `null` when `s` is ASCII (then its length is its byte length). */
export function utf8IfNotAscii(s: string): Uint8Array | null {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return utf8Encoder.encode(s);
  }
  return null;
}
