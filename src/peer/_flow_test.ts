// Inbound flow against real streams: a consumer that falls behind holds the read loop while it
// reads on, and fails alone once it stalls.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InboundFlow } from "./_flow.ts";

function flow(stallMs: number) {
  let pauses = 0;
  const life = { closed: false };
  const f = new InboundFlow({ life, readPaused: () => pauses++ }, {
    streamBufferBytes: 4,
    streamStallTimeoutMs: stallMs,
  });
  return { f, life, pauses: () => pauses };
}

describe("InboundFlow", () => {
  test("a consumer behind by the buffer holds relieve() until it reads", async () => {
    const { f, pauses } = flow(10_000);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = f.readable((c) => controller = c);
    f.enqueue(controller, new Uint8Array(2), () => true, () => assert.fail("no stall"));
    assert.equal(f.pressured, false);
    f.enqueue(controller, new Uint8Array(2), () => true, () => assert.fail("no stall"));
    assert.equal(f.pressured, true);
    let relieved = false;
    const done = f.relieve().then(() => relieved = true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(relieved, false);
    const reader = readable.getReader();
    await reader.read();
    await done;
    assert.ok(pauses() >= 1, "liveness is told the loop paused");
    assert.equal(f.pressured, false);
  });

  test("a consumer that reads nothing fails after the stall timeout", async () => {
    const { f } = flow(20);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    f.readable((c) => controller = c);
    let failed = 0;
    f.enqueue(controller, new Uint8Array(8), () => failed === 0, () => failed++);
    await f.relieve();
    assert.equal(failed, 1);
  });

  test("relieve() ends at once when the peer closes", async () => {
    const { f, life } = flow(10_000);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    f.readable((c) => controller = c);
    f.enqueue(controller, new Uint8Array(8), () => true, () => assert.fail("no stall"));
    life.closed = true;
    await f.relieve();
  });
});
