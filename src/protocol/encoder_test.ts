import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  encodedHeaderLength,
  encodedMessageLength,
  encodeHandshake,
  encodeHeader,
  encodeMessage,
  encodeMessageInto,
} from "./encoder.ts";
import type { Message } from "./message.ts";
import { requestIdFromBytes, requestIdToBytes } from "./message.ts";
import { MessageEncoderStream } from "./streams.ts";
import { collect, streamOf } from "./_test_vectors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array) => dec.decode(b);
const id0001 = requestIdFromBytes(enc.encode("0001"));

describe("encoder", () => {
  test("every message type, lowercase hex", () => {
    const p = enc.encode("x".repeat(26));
    const cases: Array<[Message, string]> = [
      [
        { type: "r", id: id0001, name: "echo", payload: p },
        "r0001004echo0000001a" + "x".repeat(26),
      ],
      [{ type: "s", id: id0001, name: "", payload: p.subarray(0, 0) }, "s000100000000000"],
      [{ type: "p", id: id0001, payload: p.subarray(0, 1) }, "p000100000001x"],
      [{ type: "R", id: id0001, payload: p.subarray(0, 0) }, "R000100000000"],
      [{ type: "S", id: id0001, payload: p.subarray(0, 2) }, "S000100000002xx"],
      [{ type: "E", id: id0001, payload: p.subarray(0, 1) }, "E000100000001x"],
      [
        { type: "e", id: id0001, wait: 0xabcdef, payload: p.subarray(0, 0) },
        "e000100abcdef00000000",
      ],
      [{ type: "n", name: "note", payload: p.subarray(0, 1) }, "n004note00000001x"],
      [{ type: "h", load: 0xffff, time: 0xdeadbeef }, "hffffdeadbeef"],
      [{ type: "f", code: 3 }, "f00000003"],
      [{ type: "handshake", version: 1 }, "01"],
    ];
    for (const [m, want] of cases) {
      assert.equal(text(encodeMessage(m)), want);
      assert.equal(encodedMessageLength(m), want.length);
      const buf = new Uint8Array(want.length + 3);
      assert.equal(encodeMessageInto(m, buf, 3), want.length);
      assert.equal(text(buf.subarray(3)), want);
    }
  });

  test("binary ids round-trip byte for byte", () => {
    for (const bytes of [[0, 0, 0, 0], [1, 0, 0, 0], [0xff, 0x80, 0x7f, 0x00]]) {
      const id = requestIdFromBytes(new Uint8Array(bytes));
      assert.deepEqual(Array.from(requestIdToBytes(id)), bytes);
      const wire = encodeMessage({ type: "R", id, payload: new Uint8Array(0) });
      assert.deepEqual(Array.from(wire.subarray(1, 5)), bytes);
    }
  });

  test("UTF-8 names are measured and written in bytes", () => {
    const m: Message = { type: "n", name: "héllo→", payload: new Uint8Array(0) };
    const wire = encodeMessage(m);
    const nameBytes = enc.encode("héllo→");
    assert.equal(text(wire.subarray(1, 4)), nameBytes.length.toString(16).padStart(3, "0"));
    assert.deepEqual(wire.subarray(4, 4 + nameBytes.length), nameBytes);
    assert.equal(encodedHeaderLength(m), wire.length);
  });

  test("out-of-range fields are RangeErrors", () => {
    const empty = new Uint8Array(0);
    assert.throws(
      () => encodeMessage({ type: "n", name: "a".repeat(4096), payload: empty }),
      RangeError,
    );
    assert.throws(() => encodeMessage({ type: "R", id: -1, payload: empty }), RangeError);
    assert.throws(() => encodeMessage({ type: "R", id: 2 ** 32, payload: empty }), RangeError);
    assert.throws(() => encodeMessage({ type: "h", load: 0x10000, time: 0 }), RangeError);
    assert.throws(() => encodeMessage({ type: "e", id: 0, wait: 1.5, payload: empty }), RangeError);
    assert.throws(() => encodeHandshake(256), RangeError);
    assert.throws(() => encodeMessageInto({ type: "f", code: 0 }, new Uint8Array(8)), RangeError);
    assert.throws(() => encodeMessage({ type: "x" } as unknown as Message), TypeError);
  });

  test("encodeHeader writes the header alone with the payload's size", () => {
    const m: Message = { type: "r", id: id0001, name: "op", payload: new Uint8Array(300) };
    assert.equal(text(encodeHeader(m)), "r0001002op0000012c");
  });

  test("MessageEncoderStream writes the handshake first", async () => {
    const out = await collect(
      streamOf<Message>([{ type: "h", load: 0, time: 1 }])
        .pipeThrough(new MessageEncoderStream({ handshake: true })),
    );
    assert.deepEqual(out.map(text), ["01", "h000000000001"]);
  });
});
