import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeHandshake, encodeHeader, encodeMessage, type Message } from "../../protocol/mod.ts";
import { FrameSplitter } from "./_frame_splitter.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Deterministic pseudo-random numbers (xorshift32) in [0, 1). */
function random(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The segments a WebSocket transport must send for `messages`, after the handshake. */
function expectedSegments(messages: Message[]): Uint8Array[] {
  const out = [encodeHandshake()];
  for (const m of messages) {
    if (m.type === "h" || m.type === "f") {
      out.push(encodeMessage(m));
      continue;
    }
    out.push(encodeHeader(m));
    if ("payload" in m && m.payload.byteLength > 0) out.push(m.payload);
  }
  return out;
}

/** Splits `chunks` with one splitter, collecting copies of the segments. */
function split(chunks: Uint8Array[]): Uint8Array[] {
  const splitter = new FrameSplitter();
  const out: Uint8Array[] = [];
  for (const c of chunks) splitter.push(c, (s) => out.push(s.slice()));
  return out;
}

/** `bytes` cut at the given offsets (sorted, within bounds). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const o of [...offsets, bytes.byteLength]) {
    out.push(bytes.subarray(at, o));
    at = o;
  }
  return out;
}

function randomMessage(rand: () => number): Message {
  const id = Math.floor(rand() * 0x100000000);
  const payload = (): Uint8Array => {
    const r = rand();
    const n = r < 0.3 ? 0 : r < 0.8 ? Math.floor(rand() * 40) : Math.floor(rand() * 5000);
    return new Uint8Array(n).map(() => Math.floor(rand() * 256));
  };
  const name = (): string => {
    const r = rand();
    if (r < 0.1) return "";
    if (r < 0.2) return "héllo ✓";
    if (r < 0.25) return "x".repeat(4095);
    return "op" + Math.floor(rand() * 1000);
  };
  const kinds = ["r", "s", "p", "R", "S", "E", "e", "n", "h", "f"] as const;
  const type = kinds[Math.floor(rand() * kinds.length)];
  switch (type) {
    case "r":
    case "s":
      return { type, id, name: name(), payload: payload() };
    case "n":
      return { type, name: name(), payload: payload() };
    case "e":
      return { type, id, wait: Math.floor(rand() * 100000), payload: payload() };
    case "h":
      return { type, load: Math.floor(rand() * 0x10000), time: Math.floor(rand() * 0x100000000) };
    case "f":
      return { type, code: Math.floor(rand() * 4) };
    default:
      return { type, id, payload: payload() };
  }
}

function assertSegments(actual: Uint8Array[], expected: Uint8Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: segment count`);
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `${what}: segment ${i}`);
  }
}

describe("FrameSplitter", () => {
  const sample: Message[] = [
    { type: "r", id: 0x30303031, name: "echo", payload: enc.encode("hi") },
    { type: "R", id: 0x30303031, payload: new Uint8Array(0) },
    { type: "n", name: "", payload: enc.encode("x") },
    { type: "h", load: 1, time: 2 },
    { type: "e", id: 7, wait: 500, payload: enc.encode("request rate limit") },
    { type: "s", id: 1, name: "ünï", payload: new Uint8Array(0) },
    { type: "f", code: 2 },
  ];
  const bytes = concat([encodeHandshake(), ...sample.map(encodeMessage)]);
  const expected = expectedSegments(sample);

  test("splits a whole stream into handshake, headers and non-empty payloads", () => {
    const out = split([bytes]);
    assertSegments(out, expected, "whole");
    assert.deepEqual(out.map((s) => dec.decode(s)).slice(0, 4), [
      "01",
      "r0001004echo00000002",
      "hi",
      "R000100000000",
    ]);
  });

  test("gives the same segments one byte at a time and split at every offset", () => {
    const bytewise = Array.from(bytes, (b) => new Uint8Array([b]));
    assertSegments(split(bytewise), expected, "byte by byte");
    for (let i = 0; i <= bytes.byteLength; i++) {
      assertSegments(split(cut(bytes, [i])), expected, `split at ${i}`);
      for (let j = i; j <= bytes.byteLength; j += 7) {
        assertSegments(split(cut(bytes, [i, j])), expected, `split at ${i} and ${j}`);
      }
    }
  });

  test("emits views of the chunk for segments within it, one copy for spanning ones", () => {
    const header = enc.encode("R000100000004");
    const chunk = concat([enc.encode("01"), header, enc.encode("abcd")]);
    const splitter = new FrameSplitter();
    const out: Uint8Array[] = [];
    splitter.push(chunk, (s) => out.push(s));
    assert.equal(out.length, 3);
    for (const s of out) assert.equal(s.buffer, chunk.buffer);
    // A payload across three chunks comes out once, whole.
    const spanning: Uint8Array[] = [];
    splitter.push(enc.encode("R00010000000"), (s) => spanning.push(s));
    splitter.push(enc.encode("6ab"), (s) => spanning.push(s));
    assert.equal(splitter.pending, 2);
    splitter.push(enc.encode("cd"), (s) => spanning.push(s));
    splitter.push(enc.encode("efR0001"), (s) => spanning.push(s));
    assert.deepEqual(spanning.map((s) => dec.decode(s)), ["R000100000006", "abcdef"]);
    assert.equal(splitter.pending, 5);
  });

  test("passes bytes that are not frames through unchanged", () => {
    assert.deepEqual(split([enc.encode("01x garbage")]).map((s) => dec.decode(s)), [
      "01",
      "x garbage",
    ]);
    // A version other than 01 is still two digits; a bad name length gives up on framing.
    assert.deepEqual(
      split([enc.encode("02r0001zzzecho"), enc.encode("more")]).map((s) => dec.decode(s)),
      ["02", "r0001zzzecho", "more"],
    );
    // Garbage found in a held partial header releases what was held.
    assert.deepEqual(
      split([enc.encode("01r00"), enc.encode("01g"), enc.encode("!")]).map((s) => dec.decode(s)),
      ["01", "r0001g", "!"],
    );
    // A malformed size: the header goes out, then everything is passed through.
    const splitter = new FrameSplitter();
    const out: string[] = [];
    splitter.push(enc.encode("01R0001000000x0abc"), (s) => out.push(dec.decode(s)));
    assert.ok(splitter.passthrough);
    assert.deepEqual(out, ["01", "R0001000000x0", "abc"]);
  });

  test("a declared payload is never allocated ahead: a huge size holds only what came", () => {
    const splitter = new FrameSplitter();
    const out: Uint8Array[] = [];
    splitter.push(enc.encode("01r0001004echoffffffff"), (s) => out.push(s));
    splitter.push(new Uint8Array(10), (s) => out.push(s));
    assert.equal(out.length, 2);
    assert.equal(splitter.pending, 10);
  });

  test("property: random frames cut at random offsets re-split exactly", () => {
    const rand = random(0x9e3779b9);
    for (let round = 0; round < 300; round++) {
      const messages = Array.from(
        { length: 1 + Math.floor(rand() * 12) },
        () => randomMessage(rand),
      );
      const stream = concat([encodeHandshake(), ...messages.map(encodeMessage)]);
      const offsets = Array.from(
        { length: Math.floor(rand() * 20) },
        () => Math.floor(rand() * (stream.byteLength + 1)),
      ).sort((a, b) => a - b);
      assertSegments(split(cut(stream, offsets)), expectedSegments(messages), `round ${round}`);
    }
  });
});
