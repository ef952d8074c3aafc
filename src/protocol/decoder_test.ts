import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MessageDecoder, type MessageDecoderOptions } from "./decoder.ts";
import { encodeHandshake, encodeMessage } from "./encoder.ts";
import { ProtocolError } from "./errors.ts";
import type { Message } from "./message.ts";
import { MessageDecoderStream } from "./streams.ts";
import {
  bytesOf,
  concat,
  loadVectors,
  messageOf,
  plain,
  streamOf,
  type Vector,
} from "./_test_vectors.ts";

const vectors = loadVectors();
const enc = new TextEncoder();

interface Outcome {
  messages: unknown[];
  error?: { code: number; offset: number | undefined };
}

/** Decodes `input` fed as the given chunks, collecting messages and the first error. */
function run(chunks: Uint8Array[], options: MessageDecoderOptions): Outcome {
  const d = new MessageDecoder(options);
  const messages: unknown[] = [];
  const emit = (m: Message) => {
    if (m.type !== "handshake") messages.push(plain(m));
  };
  try {
    for (const c of chunks) d.push(c, emit);
    d.end();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { messages, error: { code: e.code, offset: e.offset } };
  }
  return { messages };
}

function expected(v: Vector): Outcome {
  const messages = (v.messages ?? []).map((m) => plain(messageOf(m)));
  return v.error ? { messages, error: { ...v.error } } : { messages };
}

function optionsOf(v: Vector): MessageDecoderOptions {
  return { ...v.options, handshake: v.handshake ?? false };
}

function splitOffsets(length: number): number[] {
  const out: number[] = [];
  for (let at = 1; at < length; at++) {
    if (length <= 20_000 || at < 4096 || at > length - 4096 || at % 257 === 0) out.push(at);
  }
  return out;
}

/** Copies each chunk so that views into one shared buffer would be caught. */
function splitAt(input: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    out.push(input.slice(prev, c));
    prev = c;
  }
  return out;
}

describe("spec vectors", () => {
  test("there are at least 60 vectors with unique ids", () => {
    assert.ok(vectors.length >= 60, `only ${vectors.length} vectors`);
    assert.equal(new Set(vectors.map((v) => v.id)).size, vectors.length);
  });

  for (const v of vectors) {
    test(v.id, () => {
      const input = bytesOf(v.input);
      const want = expected(v);
      const options = optionsOf(v);
      assert.deepEqual(run([input], options), want, "whole");
      // One byte at a time (large inputs: a few chunk sizes instead).
      if (input.length <= 20_000) {
        const cuts = Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => i + 1);
        assert.deepEqual(run(splitAt(input, cuts), options), want, "byte by byte");
      } else {
        for (const size of [1000, 4093, 65535]) {
          const cuts = [];
          for (let i = size; i < input.length; i += size) cuts.push(i);
          assert.deepEqual(run(splitAt(input, cuts), options), want, `chunks of ${size}`);
        }
      }
      // Split once at every offset; for large inputs, every offset in the first and last 4 KiB
      // (where the headers are) and a stride of 257 bytes in between.
      for (const at of splitOffsets(input.length)) {
        assert.deepEqual(run(splitAt(input, [at]), options), want, `split at ${at}`);
      }
      if (v.messages && !v.error) {
        // encode(decode(x)) equals x up to hex case.
        const parts = v.messages.map((m) => encodeMessage(messageOf(m)));
        if (v.handshake) parts.unshift(encodeHandshake());
        const re = concat(parts);
        if (v.canonical) {
          assert.deepEqual(re, input, "canonical re-encoding");
        } else {
          assert.equal(re.length, input.length, "re-encoding length");
          assert.deepEqual(run([re], options), want, "re-encoding decodes the same");
        }
      }
    });
  }

  test("valid vectors concatenated with their neighbours decode to their messages in order", () => {
    const valid = vectors.filter((v) => !v.error && !v.handshake && !v.options);
    assert.ok(valid.length > 10);
    for (let i = 0; i + 2 < valid.length; i++) {
      const group = valid.slice(i, i + 3);
      const inputs = group.map((v) => bytesOf(v.input));
      const joined = concat(inputs);
      const bounds: number[] = [];
      let o = 0;
      for (const b of inputs) bounds.push(o += b.length);
      const want = group.flatMap((v) => expected(v).messages);
      assert.deepEqual(run([joined], {}), { messages: want }, group.map((v) => v.id).join(" + "));
      // Split around every boundary between neighbours.
      for (const b of bounds.slice(0, -1)) {
        for (const d of [-1, 0, 1]) {
          if (b + d <= 0 || b + d >= joined.length) continue;
          assert.deepEqual(run(splitAt(joined, [b + d]), {}), { messages: want });
        }
      }
    }
  });
});

describe("MessageDecoder", () => {
  test("a frame inside one chunk comes out as a view of that chunk", () => {
    const chunk = enc.encode("R000100000005helloR000200000002hi");
    const out: Message[] = [];
    new MessageDecoder().push(chunk, (m) => out.push(m));
    assert.equal(out.length, 2);
    for (const m of out) {
      assert.ok("payload" in m);
      assert.equal(m.payload.buffer, chunk.buffer, "payload is a view");
    }
  });

  test("a payload spanning chunks is copied once into a buffer of exactly its size", () => {
    const a = enc.encode("R000100000005hel");
    const b = enc.encode("lo");
    const out: Message[] = [];
    const d = new MessageDecoder();
    d.push(a, (m) => out.push(m));
    assert.equal(out.length, 0);
    d.push(b, (m) => out.push(m));
    const m = out[0];
    assert.ok(m.type === "R");
    assert.equal(m.payload.byteLength, 5);
    assert.equal(m.payload.buffer.byteLength, 5);
    assert.notEqual(m.payload.buffer, a.buffer);
    assert.equal(new TextDecoder().decode(m.payload), "hello");
  });

  test("a payload whose header came in the chunk before is a view of its own chunk", () => {
    // A message transport (WebSocket, as gotalk.js sends) delivers header and payload apart.
    const d = new MessageDecoder();
    const out: Message[] = [];
    d.push(enc.encode("R000100000005"), (m) => out.push(m));
    assert.equal(out.length, 0);
    assert.ok(d.partial);
    const payload = enc.encode("helloR000200000002hi");
    d.push(payload, (m) => out.push(m));
    assert.equal(out.length, 2);
    const [first, second] = out;
    assert.ok(first.type === "R" && second.type === "R");
    assert.equal(first.payload.buffer, payload.buffer, "no copy");
    assert.equal(new TextDecoder().decode(first.payload), "hello");
    assert.equal(new TextDecoder().decode(second.payload), "hi");
    // Only part of it in the next chunk: copied once, as any payload spanning chunks.
    d.push(enc.encode("R000300000004"), (m) => out.push(m));
    d.push(enc.encode("ab"), (m) => out.push(m));
    d.push(enc.encode("cd"), (m) => out.push(m));
    const third = out[2];
    assert.equal(out.length, 3);
    assert.ok(third.type === "R");
    assert.equal(third.payload.buffer.byteLength, 4);
    assert.equal(new TextDecoder().decode(third.payload), "abcd");
    assert.equal(d.partial, false);
  });

  test("a declared ffffffff payload is refused before anything is allocated", () => {
    // Count allocations of large typed arrays while decoding.
    const Original = globalThis.Uint8Array;
    let largest = 0;
    const d = new MessageDecoder({ maxPayloadBytes: 0xffffffff });
    const small = new MessageDecoder();
    const header = enc.encode("R0001ffffffff");
    class Counting extends Original {
      constructor(...args: unknown[]) {
        super(...(args as [ArrayBuffer]));
        if (typeof args[0] === "number") largest = Math.max(largest, args[0]);
      }
    }
    globalThis.Uint8Array = Counting as unknown as typeof Uint8Array;
    try {
      assert.throws(
        () => small.push(header, () => {}),
        (e) => e instanceof ProtocolError && e.code === 2 && e.offset === 5,
      );
      // Even when the limit allows it, a header alone allocates nothing until payload arrives.
      d.push(header.subarray(0, 12), () => {});
    } finally {
      globalThis.Uint8Array = Original;
    }
    // At most the header scratch (a 4095-byte name plus 16 bytes) for the split header.
    assert.ok(largest <= 4111, `allocated ${largest} bytes`);
  });

  test("strict hex: parseInt-style leniency is refused", () => {
    const cases: Array<[string, number]> = [
      ["R0001+0000005", 5],
      ["R0001 0000005", 5],
      ["R00010x000005", 6],
      ["R0001-0000005", 5],
      ["R00010000005 ", 12],
    ];
    for (const [bad, offset] of cases) {
      assert.throws(
        () => new MessageDecoder().push(enc.encode(bad), () => {}),
        (e) => e instanceof ProtocolError && e.code === 2 && e.offset === offset,
        bad,
      );
    }
  });

  test("an unsupported version is error code 1 at offset 0", () => {
    const d = new MessageDecoder({ handshake: true });
    assert.throws(
      () => d.push(enc.encode("02"), () => {}),
      (e) => e instanceof ProtocolError && e.code === 1 && e.offset === 0,
    );
  });

  test("after an error every call throws the same error", () => {
    const d = new MessageDecoder();
    let first: unknown;
    try {
      d.push(enc.encode("x"), () => {});
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof ProtocolError);
    assert.throws(() => d.push(enc.encode("f00000000"), () => {}), (e) => e === first);
    assert.throws(() => d.end(), (e) => e === first);
  });

  test("messages before an error in the same chunk are emitted", () => {
    const out: string[] = [];
    assert.throws(() =>
      new MessageDecoder().push(enc.encode("f00000001h000000000000Z"), (m) => out.push(m.type))
    );
    assert.deepEqual(out, ["f", "h"]);
  });

  test("limits are validated", () => {
    assert.throws(() => new MessageDecoder({ maxPayloadBytes: -1 }), RangeError);
    assert.throws(() => new MessageDecoder({ maxNameBytes: 4096 }), RangeError);
    assert.throws(() => new MessageDecoder({ maxPayloadBytes: 1.5 }), RangeError);
    assert.throws(() => new MessageDecoder({ offset: -1 }), RangeError);
    assert.throws(() => new MessageDecoder({ offset: 0.5 }), RangeError);
  });

  test("names repeat, change, and are never confused across ASCII and UTF-8", () => {
    // The decoder remembers the last ASCII name: repeats, prefixes, longer names, the empty
    // name, non-ASCII names, and a lone invalid byte equal to a cached char code must all
    // decode exactly.
    const names = ["echo", "echo", "ech", "echoecho", "", "é", "é", "éx", "a".repeat(40), "echo"];
    const d = new MessageDecoder();
    const got: string[] = [];
    const emit = (m: Message) => got.push(m.type === "r" || m.type === "n" ? m.name : "?");
    for (const name of names) {
      d.push(encodeMessage({ type: "r", id: 1, name, payload: new Uint8Array(1) }), emit);
    }
    d.push(encodeMessage({ type: "n", name: "\u00e9", payload: new Uint8Array(0) }), emit);
    // "r0001" "001" 0xe9 "00000000": the byte 0xe9 alone is invalid UTF-8.
    d.push(concat([enc.encode("r0001001"), new Uint8Array([0xe9]), enc.encode("00000000")]), emit);
    assert.deepEqual(got, [...names, "é", "\ufffd"]);
  });

  test("offset counts consumed bytes and partial reports an open frame", () => {
    const d = new MessageDecoder({ handshake: true });
    d.push(enc.encode("01n002hi000"), () => {});
    assert.equal(d.offset, 11);
    assert.equal(d.partial, true);
    d.push(enc.encode("00000"), () => {});
    assert.equal(d.partial, false);
  });

  test("a decoder given an offset goes on where another left off", () => {
    const first = new MessageDecoder({ handshake: true });
    first.push(enc.encode("01n002hi00000000"), () => {});
    const next = new MessageDecoder({ offset: first.offset });
    assert.equal(next.offset, 16);
    const got: Message[] = [];
    next.push(enc.encode("n002hi00000000"), (m) => got.push(m));
    assert.equal(got.length, 1);
    assert.equal(next.offset, 30);
    // Errors give the offset in the whole stream.
    assert.throws(
      () => next.push(enc.encode("x"), () => {}),
      (e) => e instanceof ProtocolError && e.code === 2 && e.offset === 30,
    );
  });
});

describe("MessageDecoderStream", () => {
  test("decodes across chunks and errors on a partial frame at the end", async () => {
    const bytes = enc.encode("01r0001005hello00000005worldR00010000");
    const stream = streamOf([bytes.subarray(0, 7), bytes.subarray(7)])
      .pipeThrough(new MessageDecoderStream({ handshake: true }));
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of stream as unknown as AsyncIterable<Message>) seen.push(m.type);
      })(),
      (e) => e instanceof ProtocolError && e.code === 2 && e.offset === bytes.length,
    );
    assert.deepEqual(seen, ["handshake", "r"]);
  });
});
