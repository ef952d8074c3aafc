import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Transport } from "../peer/transport.ts";
import type { Listener } from "../peer/transport.ts";
import { pipePair } from "./pipe.ts";
import { type ConnectionFactory, factories, runtimeName } from "./_test_factories.ts";
import { within } from "../peer/_test_within.ts";

const list = await factories();

/** Resolves with `"timeout"` unless `promise` settles within `ms`. */
async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<"settled" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => "settled" as const, () => "settled" as const),
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Deterministic pseudo-random bytes (xorshift32), so that reordering or loss shows. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The index of the first differing byte, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

/** Writes `data` in chunks of sizes from `sizes` (cycled), then closes the writable. */
async function writeAll(transport: Transport, data: Uint8Array, sizes: number[]): Promise<void> {
  const writer = transport.writable.getWriter();
  let i = 0;
  for (let at = 0; at < data.byteLength; i++) {
    const end = Math.min(data.byteLength, at + sizes[i % sizes.length]);
    await writer.ready;
    // Views into `data`, which is never modified: the transport may keep them.
    await writer.write(data.subarray(at, end));
    at = end;
  }
  await writer.close();
}

interface ReadOptions {
  /** Stop after this many bytes, at most. */
  maxBytes: number;
  /** Pause 1 ms after every n-th read. */
  slowEvery?: number;
}

/** Reads to end-of-stream, keeping every chunk (so that a reused buffer would show). */
async function readAll(transport: Transport, options: ReadOptions): Promise<Uint8Array> {
  const reader = transport.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (let reads = 1; reads <= options.maxBytes + 1; reads++) {
      const { value, done } = await reader.read();
      if (done) return concat(chunks);
      assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype, "chunks are Uint8Arrays");
      chunks.push(value);
      total += value.byteLength;
      if (total > options.maxBytes) throw new Error(`More than ${options.maxBytes} bytes`);
      if (options.slowEvery && reads % options.slowEvery === 0) await delay(1);
    }
    throw new Error("Too many reads");
  } finally {
    reader.releaseLock();
  }
}

for (const factory of list) {
  describe(`transport ${factory.name} (${runtimeName()})`, () => {
    behaviour(factory);
    const { listen, connect } = factory;
    if (listen && connect) listenerBehaviour(listen, connect);
  });
}

function behaviour(factory: ConnectionFactory): void {
  test("each end's localAddr is the other end's remoteAddr", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      if (factory.name !== "pipe") assert.match(client.localAddr ?? "", /^127\.0\.0\.1:\d+$/);
      assert.equal(client.localAddr, server.remoteAddr);
      assert.equal(server.localAddr, client.remoteAddr);
    } finally {
      await close();
    }
  });

  test("addresses read only once the connection closed are still known", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const clientLocal = () => client.localAddr;
      // Nobody asked for them yet (they are formatted when first asked for); the client goes.
      client.close();
      const reader = server.readable.getReader();
      await within(reader.read().catch(() => ({ done: true })), 10_000, "the server's end");
      server.close();
      if (factory.name !== "pipe") {
        assert.match(server.remoteAddr ?? "", /^127\.0\.0\.1:\d+$/);
        assert.match(server.localAddr ?? "", /^127\.0\.0\.1:\d+$/);
      }
      assert.equal(server.remoteAddr, clientLocal());
      assert.equal(client.remoteAddr, server.localAddr);
    } finally {
      await close();
    }
  });

  test("bytes arrive in order in both directions", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const up = pattern(50_000, 1);
      const down = pattern(70_000, 2);
      const sizes = [1, 7, 300, 4096, 13, 65_536, 2];
      const [, , atServer, atClient] = await within(
        Promise.all([
          writeAll(client, up, sizes),
          writeAll(server, down, [...sizes].reverse()),
          readAll(server, { maxBytes: up.byteLength }),
          readAll(client, { maxBytes: down.byteLength }),
        ]),
        20_000,
        "exchange",
      );
      assert.equal(firstDifference(atServer, up), -1);
      assert.equal(firstDifference(atClient, down), -1);
    } finally {
      await close();
    }
  });

  test("4 MiB each way with slow readers arrive exactly", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const size = 4 * 1024 * 1024;
      const up = pattern(size, 3);
      const down = pattern(size, 4);
      const sizes = [65_536, 1, 100_000, 17, 131_072, 4000];
      const [, , atServer, atClient] = await within(
        Promise.all([
          writeAll(client, up, sizes),
          writeAll(server, down, sizes),
          readAll(server, { maxBytes: size, slowEvery: 4 }),
          readAll(client, { maxBytes: size, slowEvery: 3 }),
        ]),
        60_000,
        "4 MiB transfer",
      );
      assert.equal(atServer.byteLength, size);
      assert.equal(firstDifference(atServer, up), -1);
      assert.equal(atClient.byteLength, size);
      assert.equal(firstDifference(atClient, down), -1);
    } finally {
      await close();
    }
  });

  test("closing the client's writable ends the server's readable; the server can still reply", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const ping = new TextEncoder().encode("ping");
      const pong = new TextEncoder().encode("pong");
      await within(writeAll(client, ping, [4]), 5_000, "client write");
      const got = await within(readAll(server, { maxBytes: 4 }), 5_000, "server read to end");
      assert.deepEqual(got, ping);
      await within(writeAll(server, pong, [4]), 5_000, "server reply");
      const reply = await within(readAll(client, { maxBytes: 4 }), 5_000, "client read to end");
      assert.deepEqual(reply, pong);
    } finally {
      await close();
    }
  });

  test("close() ends both directions without hanging", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const clientReader = client.readable.getReader();
      const serverReader = server.readable.getReader();
      const clientWriter = client.writable.getWriter();
      const serverWriter = server.writable.getWriter();
      const clientRead = clientReader.read();
      const serverRead = serverReader.read();
      client.close();
      client.close(); // idempotent
      // Readers see end-of-stream or an error, on both sides.
      const local = await within(clientRead.catch((e: Error) => e), 5_000, "local read");
      if (!(local instanceof Error)) assert.equal(local.done, true);
      const remote = await within(serverRead.catch((e: Error) => e), 5_000, "remote read");
      if (!(remote instanceof Error)) assert.equal(remote.done, true);
      // Local writes fail at once.
      await within(
        assert.rejects(clientWriter.write(new Uint8Array(10))),
        5_000,
        "local write",
      );
      // Remote writes fail once the remote learns of the close (at most a few writes later).
      const chunk = new Uint8Array(64 * 1024);
      let failed = false;
      for (let i = 0; i < 200 && !failed; i++) {
        try {
          await within(serverWriter.write(chunk), 5_000, "remote write");
        } catch (error) {
          assert.ok(error instanceof Error);
          assert.doesNotMatch(error.message, /did not settle within/);
          failed = true;
        }
      }
      assert.ok(failed, "writes to a closed connection fail");
    } finally {
      await close();
    }
  });

  test("a reader that does not read stalls the writer at a bounded amount", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const writer = client.writable.getWriter();
      const { accepted, writes } = await fillUntilStalled(writer);
      // Once the reader reads, everything accepted arrives.
      const closed = writer.close();
      const got = await within(readAll(server, { maxBytes: accepted }), 30_000, "drain");
      assert.equal(got.byteLength, accepted);
      await within(Promise.all([...writes, closed]), 5_000, "writes settle");
    } finally {
      await close();
    }
  });

  test("aborting a stalled writer settles at once and ends the remote's readable", async () => {
    const { client, server, close } = await within(factory.pair(), 10_000, "pair");
    try {
      const writer = client.writable.getWriter();
      const { writes } = await fillUntilStalled(writer);
      await within(writer.abort(new Error("give up")), 5_000, "abort");
      await within(Promise.allSettled(writes), 5_000, "writes settle");
      // The remote reads what arrived, then sees end-of-stream or an error.
      const drained = readAll(server, { maxBytes: 64 * 1024 * 1024 }).then(
        () => "end",
        () => "error",
      );
      assert.match(await within(drained, 30_000, "remote read"), /^(end|error)$/);
    } finally {
      await close();
    }
  });

  if (factory.name === "pipe") {
    test("a pipe copies written chunks", async () => {
      const { client, server, close } = await factory.pair();
      try {
        const chunk = new Uint8Array([1, 2, 3]);
        const writer = client.writable.getWriter();
        await writer.write(chunk);
        chunk.fill(9);
        await writer.close();
        assert.deepEqual(await readAll(server, { maxBytes: 3 }), new Uint8Array([1, 2, 3]));
      } finally {
        await close();
      }
    });
  }
}

/**
 * Writes 64 KiB chunks, without awaiting them, while `writer.ready` resolves within 500 ms;
 * asserts that it stopped resolving before `bound` bytes were accepted.
 */
async function fillUntilStalled(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  bound = 32 * 1024 * 1024, // far above the kernel's socket buffers, a few MiB on loopback
): Promise<{ accepted: number; writes: Promise<void>[] }> {
  const chunk = new Uint8Array(64 * 1024);
  let accepted = 0;
  let stalled = false;
  const writes: Promise<void>[] = [];
  for (let i = 0; i <= bound / chunk.byteLength && !stalled; i++) {
    if (await settlesWithin(writer.ready, 500) === "timeout") {
      stalled = true;
    } else {
      const write = writer.write(chunk);
      write.catch(() => {}); // observed by the caller, if at all
      writes.push(write);
      accepted += chunk.byteLength;
    }
  }
  assert.ok(stalled, `the writer stalled (accepted ${accepted} bytes)`);
  assert.ok(accepted < bound, `accepted ${accepted} bytes, bound ${bound}`);
  return { accepted, writes };
}

function listenerBehaviour(
  listen: () => Promise<Listener>,
  connect: (port: number, signal?: AbortSignal) => Promise<Transport>,
): void {
  test("closing a listener ends for-await, and accept() then returns null", async () => {
    const listener = await listen();
    let client: Transport | undefined;
    try {
      let first!: () => void;
      const accepted = new Promise<void>((resolve) => first = resolve);
      const loop = (async () => {
        let count = 0;
        for await (const transport of listener) {
          count++;
          transport.close();
          first();
        }
        return count;
      })();
      client = await within(connect(listener.addr.port), 10_000, "connect");
      await within(accepted, 10_000, "accept");
      listener.close();
      assert.equal(await within(loop, 5_000, "for-await loop end"), 1);
      assert.equal(await within(listener.accept(), 5_000, "accept after close"), null);
      listener.close(); // idempotent
    } finally {
      client?.close();
      listener.close();
    }
  });

  test("a pending accept() resolves with null when the listener closes", async () => {
    const listener = await listen();
    const pending = listener.accept();
    listener.close();
    assert.equal(await within(pending, 5_000, "pending accept"), null);
  });

  test("connecting to a closed port rejects with an Error", async () => {
    const listener = await listen();
    const port = listener.addr.port;
    listener.close();
    await within(
      assert.rejects(connect(port), (error: unknown) => error instanceof Error),
      10_000,
      "connect to closed port",
    );
  });

  test("connecting with an aborted signal rejects", async () => {
    const listener = await listen();
    try {
      const reason = new Error("stop");
      await within(
        assert.rejects(connect(listener.addr.port, AbortSignal.abort(reason)), reason),
        5_000,
        "connect with aborted signal",
      );
      const controller = new AbortController();
      const connecting = connect(listener.addr.port, controller.signal);
      controller.abort(reason);
      await within(assert.rejects(connecting, reason), 5_000, "connect aborted midway");
    } finally {
      listener.close();
    }
  });
}

describe("argument checks", () => {
  test("pipePair rejects a bad highWaterMark", () => {
    for (const highWaterMark of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => pipePair({ highWaterMark }), RangeError);
    }
  });

  for (const factory of list) {
    const adapter = factory.adapter;
    if (!adapter || factory.name === "tls") continue;
    test(`${factory.name}: connect and listen reject bad options`, async () => {
      await assert.rejects(async () => await adapter.connect({ port: -1 }), RangeError);
      await assert.rejects(async () => await adapter.connect({ port: 1.5 }), RangeError);
      await assert.rejects(
        async () => await adapter.connect({ port: "80" as unknown as number }),
        TypeError,
      );
      await assert.rejects(
        async () => await adapter.connect({ port: 80, hostname: "" }),
        TypeError,
      );
      await assert.rejects(async () => await adapter.listen({ port: 70_000 }), RangeError);
      await assert.rejects(
        async () => await adapter.listen({ port: 0, tls: { cert: "", key: "" } }),
        TypeError,
      );
    });
  }
});
