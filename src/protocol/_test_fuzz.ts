// The seeded mutation fuzzer shared by the decoder's and the peer's fuzz tests (and the stress
// harness in conformance/stress.ts): a small PRNG, a corpus of well-formed frames, and mutators
// (bit flips, byte changes, truncation, length fields set to huge or odd values, concatenation,
// duplication) plus random chunking. Everything follows from one seed, so a run is reproduced by
// its seed and a single failing input by its hex.
//
// Configuration, read from the environment where a runtime has one:
// - GOTALK_FUZZ_SEED: the run's seed (an integer; `random` picks one and the tests print it).
// - GOTALK_FUZZ_INPUTS: how many inputs the decoder fuzz test runs (the peer's run a fixed
//   fraction of it; see their files).
import { encodeHandshake, encodeMessage } from "./encoder.ts";
import type { Message } from "./message.ts";

/** A seeded PRNG (mulberry32): 32-bit state, good enough for choosing mutations. */
export class Rng {
  #s: number;
  /** A generator whose sequence follows from `seed`. */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** The next 32-bit value. */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  /** One element of `items`. */
  pick<T>(items: ArrayLike<T>): T {
    return items[this.int(items.length)];
  }
}

/** The seed of input `i` of a run seeded with `seed`: each input can be replayed alone. */
export function inputSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
}

// deno-lint-ignore no-explicit-any
const env = (globalThis as any).process?.env ?? (globalThis as any).Deno?.env?.toObject?.() ??
  {};

/** The run's seed: GOTALK_FUZZ_SEED, `random`, or the fixed default so that CI is repeatable. */
export function fuzzSeed(fallback = 1): number {
  const v = env.GOTALK_FUZZ_SEED as string | undefined;
  if (v === undefined || v === "") return fallback;
  if (v === "random") return (Math.random() * 0x100000000) >>> 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`GOTALK_FUZZ_SEED: bad seed ${v}`);
  return n >>> 0;
}

/** How many inputs to run: GOTALK_FUZZ_INPUTS, or `fallback`. */
export function fuzzInputs(fallback: number): number {
  const v = env.GOTALK_FUZZ_INPUTS as string | undefined;
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`GOTALK_FUZZ_INPUTS: bad count ${v}`);
  return n;
}

const enc = new TextEncoder();

/** Lowercase hex of bytes (how a failing input is printed). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The bytes of a hex string (how a regression is written down). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Error("Bad hex input");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const NAMES = ["echo", "upper", "sleep", "stream-echo", "x", "", "ünï", "a".repeat(40)];

/** A well-formed message of a random type (the corpus the mutators start from). */
export function randomMessage(rng: Rng, maxPayload = 64): Message {
  const id = rng.chance(0.5) ? 0x30303030 + rng.int(16) : rng.next();
  const payload = new Uint8Array(rng.int(maxPayload + 1));
  for (let i = 0; i < payload.length; i++) {
    payload[i] = rng.chance(0.8) ? 0x61 + rng.int(26) : rng.int(256);
  }
  if (rng.chance(0.3)) payload.set(enc.encode('{"ms":1,"value":1}').subarray(0, payload.length));
  const name = rng.pick(NAMES);
  switch (rng.int(10)) {
    case 0:
      return { type: "r", id, name, payload };
    case 1:
      return { type: "s", id, name, payload };
    case 2:
      return { type: "p", id, payload };
    case 3:
      return { type: "R", id, payload };
    case 4:
      return { type: "S", id, payload };
    case 5:
      return { type: "E", id, payload };
    case 6:
      return { type: "e", id, wait: rng.int(5000), payload };
    case 7:
      return { type: "n", name, payload };
    case 8:
      return { type: "h", load: rng.int(0x10000), time: rng.next() };
    default:
      return { type: "f", code: rng.int(5) };
  }
}

/** One to `max` well-formed frames, concatenated, optionally after a handshake. */
export function randomFrames(rng: Rng, max: number, handshake: boolean): Uint8Array {
  const parts: Uint8Array[] = handshake ? [encodeHandshake()] : [];
  const n = 1 + rng.int(max);
  for (let i = 0; i < n; i++) parts.push(encodeMessage(randomMessage(rng)));
  return concatBytes(parts);
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HEX = enc.encode("0123456789abcdefABCDEF");
/** Bytes a parser is likely to mistake for something else. */
const ODD = enc.encode("+- \t\n\r0fFgG\x00\x7f\x80\xffrRsSpPeEnNhH");
/** Length field values: huge, just over common limits, zero, odd digits. */
const LENGTHS = [
  "ffffffff",
  "FFFFFFFF",
  "7fffffff",
  "80000000",
  "01000000",
  "01000001",
  "00ffffff",
  "00001000",
  "00000000",
  "00000001",
  "+0000001",
  "-0000001",
  " 0000001",
  "0x000001",
  "0000000g",
  "fff",
  "FFF",
  "000",
  "001",
  "100",
  "00g",
];

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

/** Overwrites a run of 3 or 8 hex digits (a name length or a size, most likely). */
function mutateLength(rng: Rng, b: Uint8Array): Uint8Array {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < b.length;) {
    if (!isHex(b[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < b.length && isHex(b[j])) j++;
    if (j - i >= 3) runs.push([i, j - i]);
    i = j;
  }
  if (runs.length === 0) return b;
  const [start, len] = rng.pick(runs);
  const value = enc.encode(rng.pick(LENGTHS));
  const at = start + rng.int(Math.max(1, len - value.length + 1));
  const out = b.slice();
  out.set(value.subarray(0, Math.max(0, out.length - at)), at);
  return out;
}

/** One mutation of `b`; `other` is another corpus input for concatenation and splicing. */
export function mutate(rng: Rng, b: Uint8Array, other: Uint8Array): Uint8Array {
  switch (rng.int(10)) {
    case 0: { // bit flips
      const out = b.slice();
      for (let k = 1 + rng.int(4); k > 0 && out.length > 0; k--) {
        out[rng.int(out.length)] ^= 1 << rng.int(8);
      }
      return out;
    }
    case 1: { // a byte set to a hex digit or a confusing byte
      if (b.length === 0) return b;
      const out = b.slice();
      out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(HEX) : rng.pick(ODD);
      return out;
    }
    case 2: // truncation
      return b.slice(0, rng.int(b.length + 1));
    case 3: // drop the head: starts mid-frame
      return b.slice(rng.int(b.length + 1));
    case 4:
    case 5: // length fields
      return mutateLength(rng, b);
    case 6: // concatenation
      return concatBytes([b, other]);
    case 7: { // splice: a piece of one, a piece of the other
      const cut = rng.int(b.length + 1);
      return concatBytes([b.subarray(0, cut), other.subarray(rng.int(other.length + 1))]);
    }
    case 8: { // duplicate a region in place
      if (b.length === 0) return b;
      const from = rng.int(b.length);
      const len = 1 + rng.int(Math.min(32, b.length - from));
      const at = rng.int(b.length + 1);
      return concatBytes([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
    }
    default: { // random bytes inserted
      const junk = new Uint8Array(1 + rng.int(8));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.int(256);
      const at = rng.int(b.length + 1);
      return concatBytes([b.subarray(0, at), junk, b.subarray(at)]);
    }
  }
}

/** A fuzz input: well-formed frames (or a corpus entry) after 0 to 3 mutations. */
export function fuzzInput(
  rng: Rng,
  corpus: readonly Uint8Array[],
  options: { handshake?: boolean; maxFrames?: number } = {},
): Uint8Array {
  const handshake = options.handshake ?? false;
  const maxFrames = options.maxFrames ?? 4;
  const base = corpus.length > 0 && rng.chance(0.4)
    ? rng.pick(corpus)
    : randomFrames(rng, maxFrames, handshake);
  let b = base;
  for (let k = rng.int(4); k > 0; k--) {
    const other = corpus.length > 0 && rng.chance(0.5)
      ? rng.pick(corpus)
      : randomFrames(rng, 2, false);
    b = mutate(rng, b, other);
  }
  return b;
}

/** Cuts `b` into random chunks (copies: a decoder must not rely on chunks it was given). */
export function randomChunks(rng: Rng, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < b.length) {
    const mode = rng.int(3);
    const len = mode === 0 ? 1 : mode === 1 ? 1 + rng.int(16) : 1 + rng.int(b.length);
    out.push(b.slice(at, at + len));
    at += len;
  }
  return out;
}
