// The frame writer's coalescing: whatever mix of frames is queued in one microtask, the chunks it
// hands to the transport are the frames' exact encoding, in order; small payloads are copied
// into shared batch buffers, large ones are handed over as they are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage, type Message } from "../protocol/mod.ts";
import { FrameWriter } from "./_writer.ts";

function collector(): { writable: WritableStream<Uint8Array>; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  return { writable: new WritableStream({ write: (c) => void chunks.push(c) }), chunks };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An owner for writers whose writes must not fail. */
const failing = {
  writeFailed: (e: unknown) => assert.fail(String(e)),
  writeStalled: () => assert.fail("no stall"),
};

/** {@linkcode failing} with a high-water mark of `bytes` and no stall timeout. */
function owner(bytes: number) {
  return { ...failing, o: { writeBufferBytes: bytes, writeStallTimeoutMs: 0 } };
}

function payload(size: number, seed: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 7 + seed) & 0xff);
}

test("frames queued together come out as their exact encoding, in order", async () => {
  const { writable, chunks } = collector();
  const writer = new FrameWriter(writable.getWriter(), owner(64 << 20));
  // Small frames, frames that overflow a 1 MiB batch, zero-copy payloads (256 KiB and more)
  // between them, and names and ids of every shape.
  const sizes = [0, 16, 300 << 10, 1, 200 << 10, 200 << 10, 200 << 10, 200 << 10, 200 << 10, 7];
  sizes.push(256 << 10, 255 << 10, 1 << 20, 0, 3 << 20, 12);
  const messages: Message[] = sizes.map((size, i) =>
    i % 3 === 0
      ? { type: "r", id: 0x61616161 + i, name: i % 2 ? "écho" : "echo", payload: payload(size, i) }
      : { type: "R", id: 0x61616161 + i, payload: payload(size, i) }
  );
  messages.push({ type: "h", load: 1, time: 2 }, { type: "f", code: 0 });
  for (const m of messages) writer.send(m);
  await writer.close();
  assert.deepEqual(concat(chunks), concat(messages.map(encodeMessage)));
  // The large payloads were handed over as they are, not copied.
  for (const m of messages) {
    if ("payload" in m && m.payload.length >= 256 << 10) {
      assert.ok(chunks.includes(m.payload), `a ${m.payload.length}-byte payload was copied`);
    }
  }
  // Small frames share buffers: far fewer chunks than frames.
  assert.ok(chunks.length < messages.length, `${chunks.length} chunks for ${messages.length}`);
});

test("a writer's zeroCopyBytes hint: payloads of that size or more are not copied", async () => {
  // A message transport (a WebSocket without send batching) says 16 KiB; here 1 KiB.
  const { writable, chunks } = collector();
  const direct = Object.assign(writable.getWriter(), { zeroCopyBytes: 1024 });
  const writer = new FrameWriter(direct, owner(64 << 20));
  const small: Message = { type: "R", id: 0x61616161, payload: payload(1023, 1) };
  const large: Message = { type: "R", id: 0x61616162, payload: payload(1024, 2) };
  writer.send(small);
  writer.send(large);
  writer.send(small);
  await writer.close();
  assert.deepEqual(concat(chunks), concat([small, large, small].map(encodeMessage)));
  // The batch ends with the large payload's header; the payload follows as it is.
  assert.equal(chunks.length, 3);
  assert.equal(chunks[1], large.payload);
  assert.ok(!chunks.includes(small.payload), "a payload under the hint was copied");
});

test("writers queued in one microtask flush together, each its own frames in one chunk", async () => {
  // Direct writers that take every chunk at once: what was written shows synchronously.
  const outs = [0, 1, 2].map(() => {
    const chunks: Uint8Array[] = [];
    const sink = {
      write: (c: Uint8Array) => void chunks.push(c),
      close: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    };
    return { chunks, writer: new FrameWriter(sink, owner(1 << 20)) };
  });
  const frames = outs.map((_, w) =>
    [1, 2, 3].map((id): Message => ({ type: "R", id: 10 * w + id, payload: payload(id, w) }))
  );
  // Interleaved: writer 0, 1, 2, 0, 1, 2, ...
  for (let i = 0; i < 3; i++) for (let w = 0; w < 3; w++) outs[w].writer.send(frames[w][i]);
  assert.ok(outs.every((o) => o.chunks.length === 0), "nothing before the microtask");
  await Promise.resolve();
  for (let w = 0; w < 3; w++) {
    assert.equal(outs[w].chunks.length, 1, `writer ${w}: one write`);
    assert.deepEqual([...outs[w].chunks[0]], [...concat(frames[w].map(encodeMessage))]);
    outs[w].writer.abort();
  }
});

test("frames sent in different microtasks go out in different flushes, in order", async () => {
  const { writable, chunks } = collector();
  const writer = new FrameWriter(writable.getWriter(), owner(1 << 20));
  const a: Message = { type: "R", id: 1, payload: payload(10, 1) };
  const b: Message = { type: "R", id: 2, payload: payload(20, 2) };
  writer.send(a);
  await Promise.resolve();
  writer.send(b);
  await writer.close();
  assert.deepEqual(chunks.map((c) => [...c]), [[...encodeMessage(a)], [...encodeMessage(b)]]);
});

test("frames encoded already (a topic's) go out byte for byte, in order with the others", async () => {
  const { writable, chunks } = collector();
  const writer = new FrameWriter(writable.getWriter(), owner(64 << 20));
  const small = encodeMessage({ type: "n", name: "n", payload: payload(64, 1) });
  const large = encodeMessage({ type: "n", name: "big", payload: payload(300 << 10, 2) });
  const r: Message = { type: "R", id: 0x61616161, payload: payload(10, 3) };
  writer.send(r);
  writer.sendFrame(small);
  writer.sendFrame(large);
  writer.sendFrame(small);
  writer.send(r);
  assert.equal(writer.backlog, 2 * small.length + large.length + 2 * encodeMessage(r).length);
  await writer.close();
  const expected = [encodeMessage(r), small, large, small, encodeMessage(r)];
  assert.deepEqual(concat(chunks), concat(expected));
  assert.ok(chunks.includes(large), "a large frame is written as it is, not copied");
  assert.ok(chunks.every((c) => c.length > 0), "no empty chunk");
});

test("a write stall: watched only while bytes are in flight, reported once past the timeout", async () => {
  let release: (() => void) | undefined;
  const writes: number[] = [];
  const sink = {
    write(chunk: Uint8Array): Promise<void> | void {
      writes.push(chunk.length);
      // The first write is taken at once; the second never completes until released.
      if (writes.length === 1) return;
      return new Promise<void>((resolve) => release = resolve);
    },
    close: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
  let stalls = 0;
  let resolveStall!: () => void;
  let rejectStall!: (error: Error) => void;
  const stalled = new Promise<void>((resolve, reject) => {
    resolveStall = resolve;
    rejectStall = reject;
  });
  const writer = new FrameWriter(sink, {
    writeFailed: failing.writeFailed,
    writeStalled: () => {
      stalls++;
      resolveStall();
    },
    o: { writeBufferBytes: 1 << 20, writeStallTimeoutMs: 40 },
  });
  writer.send({ type: "R", id: 1, payload: payload(8, 1) });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(writer.backlog, 0, "a write taken at once leaves nothing in flight");
  writer.send({ type: "R", id: 2, payload: payload(8, 2) });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(writer.backlog > 0);
  // The watch's timer does not keep a process alive: this one does, for a bounded while.
  const alive = setTimeout(() => rejectStall(new Error("no stall within 5 s")), 5000);
  await stalled;
  clearTimeout(alive);
  assert.equal(stalls, 1);
  release!();
  writer.abort();
});
