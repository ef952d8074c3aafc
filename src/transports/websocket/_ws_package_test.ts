import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { concat } from "../../protocol/_test_vectors.ts";
import {
  FrameBatcher,
  frameHeaderLength,
  JOIN_BELOW,
  MessageJoiner,
  type NetSocket,
  writeFrameHeader,
} from "./_ws_package.ts";

function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** A joiner whose deliveries are collected, with a way to wait for its scheduled flush. */
function collecting() {
  const out: Uint8Array[] = [];
  const joiner = new MessageJoiner((b) => void out.push(b));
  // The joiner flushes in a microtask queued by its first message: one queued after it runs later.
  const settled = () => new Promise<void>((resolve) => queueMicrotask(resolve));
  return { out, joiner, settled };
}

describe("MessageJoiner", () => {
  test("short messages of one task come out as one chunk, in order, once the task is done", async () => {
    const { out, joiner, settled } = collecting();
    joiner.add(bytes(3, 1));
    joiner.add(bytes(2, 2));
    joiner.add(new Uint8Array(0));
    joiner.add(bytes(1, 3));
    assert.equal(out.length, 0);
    await settled();
    assert.deepEqual(out, [new Uint8Array([1, 1, 1, 2, 2, 3])]);
  });

  test("a single short message is handed over as it is, without a copy", async () => {
    const { out, joiner, settled } = collecting();
    const one = bytes(5, 9);
    joiner.add(one);
    await settled();
    assert.equal(out.length, 1);
    assert.equal(out[0], one);
  });

  test("a long message goes out at once, after what was held before it", () => {
    const { out, joiner } = collecting();
    const long = bytes(JOIN_BELOW, 7);
    joiner.add(bytes(2, 1));
    joiner.add(bytes(2, 2));
    joiner.add(long);
    assert.deepEqual(out, [new Uint8Array([1, 1, 2, 2]), long]);
    assert.equal(out[1], long);
  });

  test("flush delivers what is held at once (before the close), and the scheduled one is empty", async () => {
    const { out, joiner, settled } = collecting();
    joiner.add(bytes(1, 4));
    joiner.add(bytes(1, 5));
    joiner.flush();
    assert.deepEqual(out, [new Uint8Array([4, 5])]);
    await settled();
    assert.equal(out.length, 1);
  });

  test("at most 64 KiB are held: a task's many messages come out in several chunks", async () => {
    const { out, joiner, settled } = collecting();
    const n = Math.ceil((64 * 1024) / (JOIN_BELOW - 1)) + 3;
    for (let i = 0; i < n; i++) joiner.add(bytes(JOIN_BELOW - 1, i & 0xff));
    await settled();
    assert.ok(out.length >= 2);
    assert.ok(out.every((c) => c.byteLength <= 64 * 1024 + JOIN_BELOW));
    assert.equal(out.reduce((s, c) => s + c.byteLength, 0), n * (JOIN_BELOW - 1));
    let at = 0;
    for (const c of out) {
      for (let j = 0; j < c.byteLength; j += JOIN_BELOW - 1) {
        assert.equal(c[j], Math.floor((at + j) / (JOIN_BELOW - 1)) & 0xff);
      }
      at += c.byteLength;
    }
  });
});

/** A socket that records its writes, and whether they were corked. */
function recordingSocket() {
  const writes: Uint8Array[] = [];
  let corks = 0;
  const corkedWrites: boolean[] = [];
  const socket: NetSocket = {
    cork: () => void corks++,
    uncork: () => void corks--,
    write: (data) => {
      writes.push(data);
      corkedWrites.push(corks > 0);
      return true;
    },
    on: () => socket,
  };
  return { socket, writes, corkedWrites, corks: () => corks };
}

/** The binary messages of unmasked frames, checking each is a final binary frame. */
function unframe(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.equal(bytes[at], 0x82);
    let n = bytes[at + 1];
    at += 2;
    if (n === 126) {
      n = (bytes[at] << 8) | bytes[at + 1];
      at += 2;
    } else if (n === 127) {
      let v = 0;
      for (let i = 0; i < 8; i++) v = v * 256 + bytes[at + i];
      n = v;
      at += 8;
    }
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

describe("FrameBatcher", () => {
  test("frame headers for each length class", () => {
    for (const n of [0, 1, 125, 126, 65535, 65536, 2 ** 32 + 5]) {
      const out = new Uint8Array(10);
      const end = writeFrameHeader(out, 0, n);
      assert.equal(end, frameHeaderLength(n));
      assert.equal(out[0], 0x82);
      if (n < 126) assert.equal(out[1], n);
      else if (n < 65536) assert.deepEqual([...out.subarray(1, 4)], [126, n >> 8, n & 0xff]);
      else {
        assert.equal(out[1], 127);
        let v = 0;
        for (let i = 2; i < 10; i++) v = v * 256 + out[i];
        assert.equal(v, n);
      }
    }
  });

  test("the messages of one task leave in one corked write, framed in order", async () => {
    const { socket, writes, corkedWrites, corks } = recordingSocket();
    const batcher = new FrameBatcher(socket, () => true);
    const messages = [bytes(13, 1), bytes(16, 2), bytes(0, 0), bytes(300, 3), bytes(70_000, 4)];
    for (const m of messages) batcher.send(m);
    assert.equal(writes.length, 0);
    assert.equal(
      batcher.held,
      messages.reduce((s, m) => s + m.length + frameHeaderLength(m.length), 0),
    );
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    assert.equal(batcher.held, 0);
    assert.equal(corks(), 0);
    assert.ok(corkedWrites.every((c) => c));
    assert.deepEqual(unframe(concat(writes)), messages);
    // The long message is written as it is, after its header.
    assert.ok(writes.includes(messages[4]));
    assert.equal(writes.length, 2);
  });

  test("what is held once the socket is no longer open is dropped", () => {
    const { socket, writes } = recordingSocket();
    let open = true;
    const batcher = new FrameBatcher(socket, () => open);
    batcher.send(bytes(5, 1));
    open = false;
    batcher.flush();
    assert.equal(writes.length, 0);
    assert.equal(batcher.held, 0);
  });
});
