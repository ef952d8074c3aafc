// The peer against abusive remotes: one that never reads what it asked for (the bytes held stay
// under writeBufferBytes plus one frame, producers pause, the write stall timeout closes it),
// one that trickles a frame (the frame deadline closes it, idle time between frames does not),
// and what a closed peer still holds (nothing). Over a bounded pipe and this runtime's TCP.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage, type Message, ProtocolError } from "../protocol/mod.ts";
import { pipePair } from "../transports/pipe.ts";
import { acceptPair, nativeAdapter } from "../transports/_test_factories.ts";
import type { Transport } from "./transport.ts";
import { WriteStallError } from "./errors.ts";
import { Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { peerStats } from "./_stats.ts";

const enc = new TextEncoder();
const KiB = 1024;

interface RawPair {
  client: Transport;
  server: Transport;
  close(): Promise<void>;
}

const pairs: Array<{ name: string; make: () => Promise<RawPair> }> = [
  {
    name: "bounded pipe",
    make: () => {
      const [client, server] = pipePair({ highWaterMark: 64 * KiB });
      return Promise.resolve({ client, server, close: () => Promise.resolve() });
    },
  },
  {
    name: "tcp",
    make: async () => {
      const adapter = await nativeAdapter();
      const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
      return await acceptPair(
        listener,
        () => adapter.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      );
    },
  },
];

/** Resolves after a macrotask turn. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A stream of `count` parts of `size` bytes, made only when pulled; counts what it made. */
function lazyParts(count: number, size: number, made: { parts: number }): ReadableStream {
  let left = count;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left-- === 0) return c.close();
      made.parts++;
      c.enqueue(new Uint8Array(size));
    },
  }, { highWaterMark: 0 });
}

for (const { name, make } of pairs) {
  describe(`a remote that never reads (${name})`, () => {
    test("the bytes held stay under writeBufferBytes plus one frame, then the stall closes it", async () => {
      const pair = await make();
      const writeBufferBytes = 256 * KiB;
      const made = { parts: 0 };
      let started = 0;
      const handlers = new Handlers()
        .handleBuffer("lazy", () => (started++, lazyParts(64, 64 * KiB, made)))
        .handleBuffer("blob", () => (started++, new Uint8Array(200 * KiB)))
        .handleBuffer("note", async (_p, ctx) => {
          started++;
          await ctx.peer.bufferNotify("n", new Uint8Array(100 * KiB));
          return new Uint8Array(1);
        })
        .handleBuffer("ask", (_p, ctx) => {
          started++;
          // Our own request: the remote never answers (nor reads it).
          return ctx.peer.bufferRequest("x", new Uint8Array(150 * KiB));
        });
      const server = new Peer(pair.server, {
        handlers,
        writeBufferBytes,
        writeStallTimeoutMs: 400,
        heartbeatIntervalMs: 0,
        logger: null,
      });
      // The client: a handshake and 160 requests of 8 KiB (so that they span many reads), and
      // it never reads.
      const w = pair.client.writable.getWriter();
      const ops = ["lazy", "blob", "note", "ask"];
      const writes: Promise<void>[] = [w.write(enc.encode("01"))];
      for (let i = 0; i < 160; i++) {
        const id = 0x30303030 + i;
        const m: Message = { type: "r", id, name: ops[i % 4], payload: new Uint8Array(8 * KiB) };
        // Not awaited: the writes wait while the server does not read.
        writes.push(w.write(encodeMessage(m)));
      }
      const sent = Promise.allSettled(writes);
      let most = 0;
      let closed = false;
      const why = server.closed.then((e) => (closed = true, e));
      for (let i = 0; i < 100_000 && !closed; i++) {
        most = Math.max(most, peerStats(server).writeBacklogBytes);
        await turn();
      }
      const reason = await why;
      assert.ok(reason instanceof WriteStallError, `closed with ${reason}`);
      // Bound: writeBufferBytes, plus the frame that crossed it (the largest here is a 200 KiB
      // result), plus the handshake.
      const bound = writeBufferBytes + 200 * KiB + 64;
      assert.ok(most <= bound, `held ${most} bytes, more than ${bound}`);
      assert.ok(most >= writeBufferBytes, `held only ${most} bytes: nothing backed up`);
      // It stopped reading: not every request was taken.
      assert.ok(started < 160, `all ${started} requests were dispatched`);
      // Streams paused: far fewer parts were made than the 64 per stream asked for.
      assert.ok(made.parts < 64 * 4, `${made.parts} parts were made`);
      const after = peerStats(server);
      assert.equal(after.writeBacklogBytes, 0);
      assert.equal(after.pendingRequests, 0);
      assert.equal(after.liveSignals, 0);
      await pair.close();
      await sent;
    });
  });
}

/** Waits `ms` (a stimulus: time passing, not a wait for something to happen). */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const { name, make } of pairs) {
  describe(`the frame deadline (${name})`, () => {
    test("a frame trickled a byte at a time closes with ProtocolError 3", async () => {
      const pair = await make();
      const server = new Peer(pair.server, {
        handlers: new Handlers().handleBuffer("echo", (p) => p),
        frameTimeoutMs: 150,
        heartbeatIntervalMs: 0,
        logger: null,
      });
      const w = pair.client.writable.getWriter();
      // A header declaring 4096 payload bytes, then one byte each 10 ms: a deadline that each
      // byte reset would never pass. At most 300 bytes (3 s): a hang guard.
      await w.write(enc.encode("01r0001004echo00001000"));
      let closed = false;
      const why = server.closed.then((e) => (closed = true, e));
      let trickled = 0;
      for (; trickled < 300 && !closed; trickled++) {
        await w.write(enc.encode("x")).catch(() => {});
        await pause(10);
      }
      const reason = await why;
      assert.ok(reason instanceof ProtocolError, `closed with ${reason}`);
      assert.equal(reason.code, 3);
      assert.ok(trickled < 300, "the connection outlived the trickle");
      // The remote is told why.
      const r = pair.client.readable.getReader();
      let got = "";
      for (let i = 0; i < 100 && !got.includes("f00000003"); i++) {
        const { done, value } = await r.read();
        if (done) break;
        got += new TextDecoder().decode(value);
      }
      assert.match(got, /f00000003/);
      await pair.close();
    });

    test("idle time between frames is not counted", async () => {
      const pair = await make();
      const server = new Peer(pair.server, {
        handlers: new Handlers().handleBuffer("echo", (p) => p),
        frameTimeoutMs: 50,
        heartbeatIntervalMs: 0,
      });
      const client = new Peer(pair.client, { heartbeatIntervalMs: 0 });
      assert.deepEqual(await client.bufferRequest("echo", enc.encode("a")), enc.encode("a"));
      await pause(200); // idle, four deadlines long
      assert.deepEqual(await client.bufferRequest("echo", enc.encode("b")), enc.encode("b"));
      assert.equal(server.isOpen, true);
      client.abort();
      await server.closed;
      await pair.close();
    });
  });
}

describe("each request's own signal", () => {
  test("made only when read, aborted with the connection, released when the request settles", async () => {
    const [a, b] = pipePair();
    const signals: AbortSignal[] = [];
    let waiting = 0;
    const handlers = new Handlers()
      .handleBuffer("plain", (p) => p)
      .handleBuffer("keep", (_p, ctx) => {
        signals.push(ctx.signal);
        ctx.signal.addEventListener("abort", () => {}); // never removed: dies with the request
        return new Uint8Array(1);
      })
      .handleBuffer("wait", (_p, ctx) => {
        waiting++;
        return new Promise<Uint8Array>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
        });
      });
    const server = new Peer(a, { handlers, logger: null });
    const client = new Peer(b);
    await client.bufferRequest("plain", new Uint8Array(1));
    assert.equal(peerStats(server).liveSignals, 0); // never read, never made
    await Promise.all([1, 2, 3].map(() => client.bufferRequest("keep", new Uint8Array(0))));
    assert.equal(signals.length, 3);
    assert.equal(new Set(signals).size, 3); // one each
    assert.equal(peerStats(server).liveSignals, 0); // released as each settled
    const pending = Array.from(
      { length: 100 },
      () => client.bufferRequest("wait", new Uint8Array(0)),
    );
    for (let i = 0; i < 1000 && waiting < 100; i++) await turn();
    assert.equal(peerStats(server).liveSignals, 100);
    client.abort();
    await Promise.allSettled(pending);
    await server.closed;
    assert.equal(peerStats(server).liveSignals, 0);
    // Settled requests' signals are not aborted with the connection: they were let go.
    assert.ok(signals.every((s) => !s.aborted));
  });
});

describe("a closed peer holds nothing", () => {
  test("pending requests, streams, signals and results are released on close", async () => {
    const pair = await make0();
    const handlers = new Handlers()
      .handleBuffer("wait", (_p, ctx) =>
        new Promise<Uint8Array>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
        }))
      .handleStream("sink", async (parts) => {
        for await (const _ of parts as unknown as AsyncIterable<Uint8Array>) { /* drain */ }
        return new Uint8Array(0);
      });
    const server = new Peer(pair.server, { handlers, logger: null, requestTimeoutMs: 60_000 });
    const client = new Peer(pair.client, { handlers, logger: null });
    const calls = Array.from({ length: 20 }, () => client.bufferRequest("wait", new Uint8Array(0)));
    const up = client.streamRequest("sink");
    const upWriter = up.writable.getWriter();
    await upWriter.write(enc.encode("part"));
    // The server's own requests to the client, pending too (with timers).
    const back = Array.from({ length: 20 }, () => server.bufferRequest("wait", new Uint8Array(0)));
    for (let i = 0; i < 1000; i++) {
      const s = peerStats(server);
      if (s.handling === 21 && s.incomingStreams === 1 && s.pendingRequests === 20) break;
      await turn();
    }
    const busy = peerStats(server);
    assert.equal(busy.handling, 21);
    assert.equal(busy.incomingStreams, 1);
    assert.equal(busy.pendingRequests, 20);
    client.abort();
    await Promise.allSettled([...calls, ...back, upWriter.closed]);
    await server.closed;
    assert.deepEqual(peerStats(server), {
      writeBacklogBytes: 0,
      replyBacklogBytes: 0,
      pendingRequests: 0,
      handling: 0,
      incomingStreams: 0,
      waitingReplies: 0,
      liveSignals: 0,
      decoders: 0,
    });
    assert.equal(peerStats(client).pendingRequests, 0);
    await pair.close();
  });
});

/** The TCP pair (the last in `pairs`). */
function make0(): Promise<RawPair> {
  return pairs[pairs.length - 1].make();
}
