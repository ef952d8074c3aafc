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
