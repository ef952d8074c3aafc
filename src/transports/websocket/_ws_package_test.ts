import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JOIN_BELOW, MessageJoiner } from "./_ws_package.ts";

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
