// Codec benchmarks: `deno bench src/protocol/codec_bench.ts`. Each group has a baseline so
// that regressions show as ratios, independent of the machine.
import {
  encodedMessageLength,
  encodeHeaderInto,
  encodeMessage,
  encodeMessageInto,
} from "./encoder.ts";
import { MessageDecoder } from "./decoder.ts";
import type { Message } from "./message.ts";

const small: Message = { type: "r", id: 0x30303031, name: "echo", payload: new Uint8Array(16) };
const smallBytes = encodeMessage(small);
const big: Message = { type: "R", id: 0x30303031, payload: new Uint8Array(64 * 1024) };
const bigBytes = encodeMessage(big);
// 100 small requests in one chunk, as a busy connection delivers them.
const batch = new Uint8Array(smallBytes.length * 100);
for (let i = 0; i < 100; i++) batch.set(smallBytes, i * smallBytes.length);
const bigHalves = [bigBytes.subarray(0, 30_000), bigBytes.subarray(30_000)];
const batchHalves = [batch.subarray(0, 1000), batch.subarray(1000)];
const scratch = new Uint8Array(batch.length + 1024);
// 64 results, as the peer's writer coalesces them into one buffer.
const results: Message[] = Array.from(
  { length: 64 },
  (_, i) => ({ type: "R", id: 0x30303030 + i, payload: new Uint8Array(16) }),
);

let sink = 0;
const emit = (m: Message) => {
  sink += m.type.length;
};

Deno.bench({
  name: "decode 16 B request",
  group: "decode small",
  baseline: true,
  fn() {
    new MessageDecoder().push(smallBytes, emit);
  },
});
Deno.bench({
  name: "decode 16 B request, header split across chunks",
  group: "decode small",
  fn() {
    const d = new MessageDecoder();
    d.push(smallBytes.subarray(0, 7), emit);
    d.push(smallBytes.subarray(7), emit);
  },
});
Deno.bench({
  name: "decode 100 x 16 B requests in one chunk",
  group: "decode small",
  n: 10_000,
  fn(b) {
    const d = new MessageDecoder();
    b.start();
    d.push(batch, emit);
    b.end();
  },
});
Deno.bench({
  name: "decode 100 x 16 B requests in two chunks",
  group: "decode small",
  n: 10_000,
  fn(b) {
    const d = new MessageDecoder();
    b.start();
    d.push(batchHalves[0], emit);
    d.push(batchHalves[1], emit);
    b.end();
  },
});
Deno.bench({
  name: "decode 64 KiB result in one chunk (view)",
  group: "decode 64 KiB",
  baseline: true,
  fn() {
    new MessageDecoder().push(bigBytes, emit);
  },
});
Deno.bench({
  name: "decode 64 KiB result across two chunks (one copy)",
  group: "decode 64 KiB",
  fn() {
    const d = new MessageDecoder();
    d.push(bigHalves[0], emit);
    d.push(bigHalves[1], emit);
  },
});
Deno.bench({
  name: "encode 16 B request (new buffer)",
  group: "encode small",
  baseline: true,
  fn() {
    sink += encodeMessage(small).length;
  },
});
Deno.bench({
  name: "encode 16 B request into a shared buffer",
  group: "encode small",
  fn() {
    sink += encodeMessageInto(small, scratch, 0);
  },
});
Deno.bench({
  name: "encode 64 KiB result (new buffer)",
  group: "encode 64 KiB",
  baseline: true,
  fn() {
    sink += encodeMessage(big).length;
  },
});
Deno.bench({
  name: "encode 64 KiB result header only (the payload is written as it is)",
  group: "encode 64 KiB",
  fn() {
    sink += encodeHeaderInto(big, scratch, 0);
  },
});
Deno.bench({
  name: "encode 64 x 16 B results into one buffer (a coalesced batch)",
  group: "encode batch",
  baseline: true,
  fn() {
    let total = 0;
    for (const m of results) total += encodedMessageLength(m);
    const buf = new Uint8Array(total);
    let pos = 0;
    for (const m of results) pos += encodeMessageInto(m, buf, pos);
    sink += pos;
  },
});
Deno.bench({
  name: "encode 64 x 16 B results, a new buffer each",
  group: "encode batch",
  fn() {
    for (const m of results) sink += encodeMessage(m).length;
  },
});
