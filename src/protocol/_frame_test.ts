import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodedHeaderLength, encodeMessage } from "./encoder.ts";
import type { Message } from "./message.ts";
import { headerLength, payloadSize } from "./_frame.ts";

const enc = new TextEncoder();

/** One message of every type, names of several lengths and encodings included. */
const messages: Message[] = [
  { type: "r", id: 1, name: "echo", payload: enc.encode("hi") },
  { type: "r", id: 0xffffffff, name: "", payload: new Uint8Array(0) },
  { type: "s", id: 2, name: "ünï", payload: new Uint8Array(3) },
  { type: "s", id: 3, name: "x".repeat(4095), payload: new Uint8Array(1) },
  { type: "p", id: 4, payload: new Uint8Array(0) },
  { type: "R", id: 5, payload: new Uint8Array(70_000) },
  { type: "S", id: 6, payload: enc.encode("part") },
  { type: "E", id: 7, payload: enc.encode("boom") },
  { type: "e", id: 8, wait: 500, payload: enc.encode("later") },
  { type: "n", name: "chat", payload: enc.encode("{}") },
  { type: "n", name: "", payload: new Uint8Array(0) },
  { type: "h", load: 1, time: 2 },
  { type: "f", code: 2 },
];

/** How many bytes `message`'s header needs before its length is known. */
function prefixOf(message: Message): number {
  return message.type === "r" || message.type === "s" ? 8 : message.type === "n" ? 4 : 1;
}

describe("headerLength", () => {
  test("gives every type's header length once enough bytes are there, at any offset", () => {
    for (const message of messages) {
      const frame = encodeMessage(message);
      const expected = encodedHeaderLength(message);
      const prefix = prefixOf(message);
      // Inside a larger buffer, at an offset, so that `pos` is honoured.
      const buf = new Uint8Array(frame.byteLength + 7);
      buf.set(frame, 3);
      for (let avail = 1; avail <= frame.byteLength; avail++) {
        const got = headerLength(buf, 3, avail);
        assert.equal(got, avail < prefix ? -prefix : expected, `${message.type} with ${avail}`);
      }
    }
  });

  test("0 for an unknown type byte and for a bad name length digit, as soon as it is seen", () => {
    for (const text of ["x", "01", "?r0001", " R0001", "F00000000"]) {
      const bytes = enc.encode(text);
      assert.equal(headerLength(bytes, 0, bytes.byteLength), 0, text);
      assert.equal(headerLength(bytes, 0, 1), 0, text);
    }
    for (const text of ["r0001g", "r00010g0", "s0001zzz", "ng", "n00x", "n0+1"]) {
      const bytes = enc.encode(text);
      assert.equal(headerLength(bytes, 0, bytes.byteLength), 0, text);
    }
    // Digits of either case are hex; partial valid digits still need more bytes.
    assert.equal(headerLength(enc.encode("n00A"), 0, 4), 12 + 10);
    assert.equal(headerLength(enc.encode("r0001fF"), 0, 7), -8);
  });
});

describe("payloadSize", () => {
  test("reads the declared size of every type; none for h and f", () => {
    for (const message of messages) {
      const frame = encodeMessage(message);
      const length = encodedHeaderLength(message);
      const size = "payload" in message ? message.payload.byteLength : 0;
      assert.equal(payloadSize(frame, 0, length), size, message.type);
    }
  });

  test("-1 for a size that is not hex", () => {
    assert.equal(payloadSize(enc.encode("R0001000000x0"), 0, 13), -1);
    assert.equal(payloadSize(enc.encode("--R0001 0000000"), 2, 13), -1);
    assert.equal(payloadSize(enc.encode("--R0001FFFFFFFF"), 2, 13), 0xffffffff);
  });
});
