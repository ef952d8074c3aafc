// The peer behaviour suite, written once against a connection factory so that it runs over
// the in-memory pipe, TCP and TLS (and WebSocket), on Deno, Bun and Node.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeMessage,
  type Message,
  MessageDecoder,
  ProtocolError,
  requestIdFromBytes,
} from "../protocol/mod.ts";
import {
  ConnectionClosedError,
  RemoteError,
  RetryLimitError,
  StreamOverflowError,
} from "./errors.ts";
import { Handlers } from "./handlers.ts";
import type { PeerOptions } from "./options.ts";
import { Peer } from "./peer.ts";
import type { Heartbeat } from "./session.ts";
import type { Transport } from "./transport.ts";
import { within } from "./_test_within.ts";

/** Makes connected transport pairs for the suite. */
export interface ConnectionFactory {
  /** Shown in test names. */
  name: string;
  /** A connected pair; `close()` releases what the pair holds (listeners, sockets). */
  pair(): Promise<{ client: Transport; server: Transport; close(): Promise<void> }>;
  /**
   * The pair runs through a relay process. When the remote closes while we write, the relay's
   * write fails first and its runtime may drop the socket before reading the remote's last
   * frame (Node destroys a socket on EPIPE), so that frame cannot be promised end to end: the
   * test of it then asserts the close alone.
   */
  relayed?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array) => dec.decode(b);

/** Resolves after `ms`, for handlers that must take time (never to wait for an outcome). */
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every few ms, up to a bound. */
async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await delay(5);
  }
}

/** The operations the suite's servers serve. */
function serverHandlers(): Handlers {
  return new Handlers()
    .handle("upper", (s: string) => s.toUpperCase())
    .handleBuffer("echo", (p) => p)
    .handleBuffer("fail", (p) => {
      throw new Error(text(p));
    })
    .handleBuffer("fail-raw", (p, ctx) => {
      throw new RemoteError(ctx.op, p);
    })
    .handle("sleep", async ({ ms, value }: { ms: number; value: unknown }) => {
      await delay(ms);
      return value;
    })
    .handleStream("stream-echo", (parts) => parts)
    .handleStream("stream-count-slowly", async (parts) => {
      // A slow but steady consumer: a pause after every 64 KiB.
      let n = 0;
      for await (const p of parts as unknown as AsyncIterable<Uint8Array>) {
        if (Math.floor((n + p.length) / 65536) > Math.floor(n / 65536)) await delay(1);
        n += p.length;
      }
      return enc.encode(String(n));
    })
    .handleStream("stream-count", async (parts) => {
      let n = 0;
      for await (const p of parts as unknown as AsyncIterable<Uint8Array>) n += p.length;
      return enc.encode(String(n));
    })
    .handle("parts", ({ count, size }: { count: number; size: number }) => {
      let i = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (i++ < count) c.enqueue(new Uint8Array(size).fill(i & 0xff));
          else c.close();
        },
      });
    })
    .handle(
      "call-back",
      ({ op, value }: { op: string; value: unknown }, ctx) => ctx.peer.request(op, value),
    )
    .handle("notify-back", async ({ name, value }: { name: string; value: unknown }, ctx) => {
      await ctx.peer.notify(name, value);
      return true;
    });
}

interface Pair {
  client: Peer;
  server: Peer;
  close(): Promise<void>;
}

async function peers(
  factory: ConnectionFactory,
  serverOptions: PeerOptions = {},
  clientOptions: PeerOptions = {},
): Promise<Pair> {
  const p = await factory.pair();
  // Quiet: the suite provokes handler and protocol errors on purpose.
  const server = new Peer(p.server, { handlers: serverHandlers(), logger: null, ...serverOptions });
  const client = new Peer(p.client, { logger: null, ...clientOptions });
  return {
    client,
    server,
    async close() {
      client.abort();
      server.abort();
      await within(Promise.all([client.closed, server.closed]), 5000, "close");
      await p.close();
    },
  };
}

/** One side driven by hand: raw bytes out, decoded messages in. */
class Raw {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new MessageDecoder({ handshake: true, maxPayloadBytes: 0xffffffff });
  readonly messages: Message[] = [];
  ended = false;
  constructor(readonly transport: Transport) {
    this.#writer = transport.writable.getWriter();
    this.#reader = transport.readable.getReader();
    this.#pump();
  }
  async #pump() {
    try {
      while (true) {
        const { done, value } = await this.#reader.read();
        if (done) break;
        this.#decoder.push(value, (m) => this.messages.push(m));
      }
    } catch {
      // A reset ends the stream just as well for these tests.
    }
    this.ended = true;
  }
  send(s: string | Uint8Array): Promise<void> {
    return this.#writer.write(typeof s === "string" ? enc.encode(s) : s);
  }
  async next(pred: (m: Message) => boolean, what = "message"): Promise<Message> {
    await until(() => this.messages.some(pred) || this.ended, 10_000, what);
    const m = this.messages.find(pred);
    if (!m) throw new Error(`Connection ended before ${what}`);
    return m;
  }
  async close() {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    this.transport.close?.();
  }
}

/** Runs the whole behaviour suite over connections from `factory`. */
export function peerSuite(factory: ConnectionFactory): void {
  describe(`peer over ${factory.name}`, () => {
    test("handshake, then JSON and buffer requests in both directions", async () => {
      const t = await peers(factory, {}, {
        handlers: new Handlers().handle("upper", (s: string) => s.toUpperCase()),
      });
      try {
        await within(Promise.all([t.client.ready, t.server.ready]), 5000, "handshake");
        assert.equal(await t.client.request("upper", "héllo wörld"), "HÉLLO WÖRLD");
        const bytes = new Uint8Array(256).map((_, i) => i);
        assert.deepEqual(await t.client.bufferRequest("echo", bytes), bytes);
        assert.deepEqual(
          await t.client.bufferRequest("echo", new Uint8Array(0)),
          new Uint8Array(0),
        );
        const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff);
        assert.deepEqual(await t.client.bufferRequest("echo", big), big);
        // The server asks the client: both sides serve.
        assert.equal(await t.server.request("upper", "up"), "UP");
        assert.equal(await t.client.request("call-back", { op: "upper", value: "cb" }), "CB");
      } finally {
        await t.close();
      }
    });

    test("ErrorResult becomes a RemoteError carrying the op and the text", async () => {
      const t = await peers(factory);
      try {
        await assert.rejects(t.client.request("nope", 1), (e) => {
          assert.ok(e instanceof RemoteError);
          assert.equal(e.op, "nope");
          assert.equal(e.message, 'unknown operation "nope"');
          return true;
        });
        await assert.rejects(
          t.client.bufferRequest("fail", enc.encode("it broke")),
          (e) => e instanceof RemoteError && e.op === "fail" && e.message === "it broke",
        );
        // A handler throwing a RemoteError sends its bytes exactly, even when not UTF-8.
        const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);
        await assert.rejects(t.client.bufferRequest("fail-raw", bytes), (e) => {
          assert.ok(e instanceof RemoteError);
          assert.deepEqual(e.payload, bytes);
          return true;
        });
        // The connection is still fine afterwards.
        assert.equal(await t.client.request("upper", "ok"), "OK");
      } finally {
        await t.close();
      }
    });

    test("streaming requests and results, independent of the request kind", async () => {
      const t = await peers(factory);
      try {
        const { writable, readable } = t.client.streamRequest("stream-echo");
        const sizes = [1, 100, 0, 70_000, 3, 5000];
        const writer = writable.getWriter();
        const writing = (async () => {
          for (const n of sizes) await writer.write(new Uint8Array(n).fill(n & 0xff));
          await writer.close();
        })();
        const got: number[] = [];
        for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
          assert.ok(part.every((b) => b === (part.length & 0xff)));
          got.push(part.length);
        }
        await writing;
        // Parts may be re-chunked only by the handler; stream-echo keeps them (empty skipped).
        assert.deepEqual(got, sizes.filter((n) => n > 0));

        // A streaming request with a single result.
        const count = t.client.streamRequest("stream-count");
        const w = count.writable.getWriter();
        await w.write(new Uint8Array(10));
        await w.write(new Uint8Array(32));
        await w.close();
        const chunks: string[] = [];
        for await (const c of count.readable as unknown as AsyncIterable<Uint8Array>) {
          chunks.push(text(c));
        }
        assert.deepEqual(chunks, ["42"]);

        // A single request with a streaming result, collected by bufferRequest.
        const all = await t.client.request("parts", { count: 5, size: 3 }).catch((e) => e);
        assert.ok(all instanceof SyntaxError, "the collected bytes are not JSON");
        const raw = await t.client.bufferRequest("parts", enc.encode('{"count":5,"size":3}'));
        assert.deepEqual(Array.from(raw), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]);

        // A stream handler receiving a single request gets one part.
        assert.equal(text(await t.client.bufferRequest("stream-count", new Uint8Array(7))), "7");
        // A buffer handler receiving a streaming request gets the parts collected.
        const viaStream = t.client.streamRequest("echo");
        const vw = viaStream.writable.getWriter();
        await vw.write(enc.encode("ab"));
        await vw.write(enc.encode("cd"));
        await vw.close();
        const echoed: string[] = [];
        for await (const c of viaStream.readable as unknown as AsyncIterable<Uint8Array>) {
          echoed.push(text(c));
        }
        assert.deepEqual(echoed, ["abcd"]);
      } finally {
        await t.close();
      }
    });

    test("notifications both ways, fallbacks, and handler sets extending a parent", async () => {
      const got: Array<[string, unknown]> = [];
      const parent = new Handlers()
        .handleNotification("hello", (v) => void got.push(["hello", v]))
        .handle("parent-op", () => "from parent")
        .handleFallback(() => enc.encode('"parent fallback"'));
      const child = new Handlers(parent)
        .handleNotificationFallback((p, ctx) => void got.push([ctx.name, text(p)]))
        .handleFallback((_p, ctx) => enc.encode(JSON.stringify(`child fallback ${ctx.op}`)));
      const clientGot: unknown[] = [];
      const t = await peers(factory, {}, {
        handlers: new Handlers().handleNotification("pushed", (v) => void clientGot.push(v)),
      });
      const p2 = await factory.pair();
      const server2 = new Peer(p2.server, { handlers: child });
      const client2 = new Peer(p2.client);
      try {
        await client2.notify("hello", { a: 1 });
        await client2.bufferNotify("other", enc.encode("raw"));
        await until(() => got.length === 2, 5000, "notifications");
        assert.deepEqual(got, [["hello", { a: 1 }], ["other", "raw"]]);
        assert.equal(await client2.request("parent-op"), "from parent");
        assert.equal(await client2.request("zzz"), "child fallback zzz");
        // Server to client.
        assert.equal(
          await t.client.request("notify-back", { name: "pushed", value: [1, 2] }),
          true,
        );
        await until(() => clientGot.length === 1, 5000, "pushed notification");
        assert.deepEqual(clientGot, [[1, 2]]);
      } finally {
        client2.abort();
        server2.abort();
        await Promise.all([client2.closed, server2.closed]);
        await p2.close();
        await t.close();
      }
    });

    test("a request limit answers RetryResult and the client retries within its budget", async () => {
      const limits = {
        maxBufferRequests: 1,
        maxStreamRequests: 0,
        retryWaitMinMs: 5,
        retryWaitMaxMs: 20,
      };
      const t = await peers(factory, limits);
      try {
        // A generous budget: the second is retried until the first is done.
        const both = await Promise.all([
          t.client.request("sleep", { ms: 50, value: 1 }),
          t.client.request("sleep", { ms: 0, value: 2 }, { maxRetries: 1000 }),
        ]);
        assert.deepEqual(both, [1, 2]);
        // With no retries allowed, the second fails with a typed error.
        const slow = t.client.request("sleep", { ms: 100, value: 1 });
        await assert.rejects(
          t.client.request("sleep", { ms: 0, value: 2 }, { maxRetries: 0 }),
          (e) =>
            e instanceof RetryLimitError && e.op === "sleep" && e.attempts === 1 &&
            e.wait >= 5 && e.wait <= 20 && e.text === "request rate limit",
        );
        assert.equal(await slow, 1);
        // A limit of 0 refuses every streaming request (a stream is never retried).
        const refused = t.client.streamRequest("stream-echo");
        const w = refused.writable.getWriter();
        await w.write(enc.encode("x")).catch(() => {});
        await assert.rejects(
          (async () => {
            for await (const _ of refused.readable as unknown as AsyncIterable<Uint8Array>) {
              // nothing arrives
            }
          })(),
          (e) => e instanceof RetryLimitError && e.attempts === 1,
        );
        await w.close().catch(() => {});
      } finally {
        await t.close();
      }
    });

    test("10,000 concurrent requests answered in random order, each settled once", async () => {
      const t = await peers(factory, {
        handlers: new Handlers().handleBuffer("jitter", async (p) => {
          await delay(p[0] % 4);
          return p;
        }),
        maxBufferRequests: Infinity, // all 10,000 at once, not the default's 1,024
      });
      try {
        const n = 10_000;
        const settled = new Array<number>(n).fill(0);
        const all = [];
        for (let i = 0; i < n; i++) {
          const payload = enc.encode(`${(i * 7919) % 251}:${i}`);
          all.push(
            t.client.bufferRequest("jitter", payload).then((r) => {
              settled[i]++;
              assert.equal(text(r), text(payload));
            }),
          );
        }
        await within(Promise.all(all), 60_000, "10,000 requests");
        assert.ok(settled.every((c) => c === 1));
        assert.equal(t.client.pendingRequests, 0);
      } finally {
        await t.close();
      }
    });

    test("closing with 1,000 requests pending rejects each once with ConnectionClosedError", async () => {
      const t = await peers(factory, {
        handlers: new Handlers().handle("never", () => new Promise(() => {})),
      });
      try {
        const outcomes = new Array<number>(1000).fill(0);
        const all = Array.from({ length: 1000 }, (_, i) =>
          t.client.request("never", i).then(
            () => assert.fail("must not resolve"),
            (e) => {
              outcomes[i]++;
              assert.ok(e instanceof ConnectionClosedError, String(e));
            },
          ));
        await until(() => t.client.pendingRequests === 1000, 5000, "pending");
        t.client.abort();
        await within(Promise.all(all), 5000, "rejections");
        assert.ok(outcomes.every((c) => c === 1));
        await assert.rejects(t.client.request("upper", "x"), ConnectionClosedError);
      } finally {
        await t.close();
      }
    });

    test("graceful close lets in-flight work finish and refuses new work", async () => {
      const t = await peers(factory);
      try {
        const inflight = t.client.request("sleep", { ms: 50, value: "done" });
        const closing = t.client.close({ timeoutMs: 5000 });
        await assert.rejects(t.client.request("upper", "late"), ConnectionClosedError);
        assert.equal(await inflight, "done");
        await within(closing, 5000, "graceful close");
        assert.equal(await t.client.closed, undefined);
        await within(t.server.closed, 5000, "server sees the close");
      } finally {
        await t.close();
      }
    });

    test("graceful close gives up at its deadline", async () => {
      const t = await peers(factory, {
        handlers: new Handlers().handle("never", () => new Promise(() => {})),
      });
      try {
        const stuck = assert.rejects(t.client.request("never"), ConnectionClosedError);
        await within(t.client.close({ timeoutMs: 50 }), 5000, "close with deadline");
        await stuck;
      } finally {
        await t.close();
      }
    });

    test("cancellation: an aborted request is forgotten and its late answer dropped", async () => {
      const t = await peers(factory);
      try {
        const ac = new AbortController();
        const r = t.client.request("sleep", { ms: 50, value: "late" }, { signal: ac.signal });
        ac.abort(new Error("changed my mind"));
        await assert.rejects(r, /changed my mind/);
        assert.equal(t.client.pendingRequests, 0);
        await assert.rejects(
          t.client.request("sleep", { ms: 1000, value: 0 }, { timeoutMs: 20 }),
          (e) => e instanceof DOMException && e.name === "TimeoutError",
        );
        await assert.rejects(
          t.client.request("upper", "x", { signal: AbortSignal.abort(new Error("pre")) }),
          /pre/,
        );
        // The late answers arrive and are dropped; the connection goes on.
        await delay(80);
        assert.equal(await t.client.request("upper", "still here"), "STILL HERE");
      } finally {
        await t.close();
      }
    });

    test("heartbeats carry load and time, and keep a read timeout at bay", async () => {
      const beats: Heartbeat[] = [];
      const t = await peers(
        factory,
        { readTimeoutMs: 300, onHeartbeat: (h) => beats.push(h) },
        { heartbeatIntervalMs: 25, heartbeatLoad: () => 1234 },
      );
      try {
        await until(() => beats.length >= 20, 10_000, "20 heartbeats (500 ms > read timeout)");
        const now = Math.floor(Date.now() / 1000);
        assert.equal(beats[0].load, 1234);
        assert.ok(Math.abs(beats[0].time - now) <= 2);
        assert.equal(t.server.lastHeartbeat?.load, 1234);
        assert.ok(t.server.isOpen, "the read timeout did not fire");
        assert.equal(await t.client.request("upper", "alive"), "ALIVE");
      } finally {
        await t.close();
      }
    });

    test("a read timeout sends ProtocolError 3 and closes", async () => {
      const t = await peers(factory, { readTimeoutMs: 100 }, { heartbeatIntervalMs: 0 });
      try {
        const serverReason = await within(t.server.closed, 5000, "server timeout");
        assert.ok(serverReason instanceof ProtocolError && serverReason.code === 3);
        const clientReason = await within(t.client.closed, 5000, "client sees it");
        assert.ok(clientReason instanceof ProtocolError, String(clientReason));
        assert.equal(clientReason.code, 3);
        assert.equal(clientReason.remote, true);
      } finally {
        await t.close();
      }
    });

    test("garbage from the remote: ProtocolError 2 sent, clean close", async () => {
      const p = await factory.pair();
      const server = new Peer(p.server, { handlers: serverHandlers(), logger: null });
      const raw = new Raw(p.client);
      try {
        await raw.send("01x garbage");
        const f = await raw.next((m) => m.type === "f", "f message");
        assert.deepEqual(f, { type: "f", code: 2 });
        const reason = await within(server.closed, 5000, "close");
        assert.ok(reason instanceof ProtocolError && reason.code === 2 && !reason.remote);
        await until(() => raw.ended, 5000, "raw side sees the close");
      } finally {
        await raw.close();
        await p.close();
      }
    });

    test("a header declaring an ffffffff payload is refused without allocating it", async () => {
      const p = await factory.pair();
      const server = new Peer(p.server, {
        handlers: serverHandlers(),
        logger: null,
        maxPayloadBytes: 1024,
      });
      const raw = new Raw(p.client);
      try {
        await raw.send("01r0001004echoffffffff");
        assert.deepEqual(await raw.next((m) => m.type === "f"), { type: "f", code: 2 });
        const reason = await within(server.closed, 5000, "close");
        assert.ok(reason instanceof ProtocolError && reason.code === 2);
      } finally {
        await raw.close();
        await p.close();
      }
    });

    test("an unsupported version gets ProtocolError 1 and a close", async () => {
      const p = await factory.pair();
      const server = new Peer(p.server, { logger: null });
      const raw = new Raw(p.client);
      try {
        await raw.send("02");
        // The raw decoder itself expects version 01 from the peer, which it gets first.
        assert.deepEqual(await raw.next((m) => m.type === "f"), { type: "f", code: 1 });
        const reason = await within(server.closed, 5000, "close");
        assert.ok(reason instanceof ProtocolError && reason.code === 1);
        await assert.rejects(server.ready, ConnectionClosedError);
      } finally {
        await raw.close();
        await p.close();
      }
    });

    test("no handshake in time: ProtocolError 3 and a close", async () => {
      const p = await factory.pair();
      const server = new Peer(p.server, { handshakeTimeoutMs: 50, logger: null });
      const raw = new Raw(p.client);
      try {
        assert.deepEqual(await raw.next((m) => m.type === "f"), { type: "f", code: 3 });
        const reason = await within(server.closed, 5000, "close");
        assert.ok(reason instanceof ProtocolError && reason.code === 3);
      } finally {
        await raw.close();
        await p.close();
      }
    });

    test("binary and text ids from the remote are echoed byte for byte", async () => {
      const p = await factory.pair();
      const server = new Peer(p.server, { handlers: serverHandlers(), logger: null });
      const raw = new Raw(p.client);
      try {
        await raw.send("01");
        const ids = [
          new Uint8Array([0, 0, 0, 0]),
          new Uint8Array([1, 0, 0, 0]),
          new Uint8Array([0xff, 0x80, 0x7f, 0x00]),
          enc.encode("zzzz"),
        ];
        for (const bytes of ids) {
          const id = requestIdFromBytes(bytes);
          await raw.send(encodeMessage({ type: "r", id, name: "echo", payload: enc.encode("x") }));
          const r = await raw.next((m) => m.type === "R" && m.id === id, "result");
          assert.ok(r.type === "R" && text(r.payload) === "x");
        }
      } finally {
        server.abort();
        await raw.close();
        await p.close();
      }
    });

    test("a remote ProtocolError maps to a typed error with its code", async () => {
      const p = await factory.pair();
      const client = new Peer(p.client, { logger: null });
      const raw = new Raw(p.server);
      try {
        const pending = assert.rejects(client.request("upper", "x"), (e) => {
          assert.ok(e instanceof ConnectionClosedError);
          assert.ok(e.cause instanceof ProtocolError && e.cause.code === 2);
          return true;
        });
        await raw.next((m) => m.type === "r", "the request");
        await raw.send("01f00000002");
        const reason = await within(client.closed, 5000, "close");
        assert.ok(reason instanceof ProtocolError && reason.code === 2 && reason.remote);
        await pending;
      } finally {
        await raw.close();
        await p.close();
      }
    });

    test("the remote closing the connection rejects pending requests", async () => {
      const t = await peers(factory, {
        handlers: new Handlers().handle("never", () => new Promise(() => {})),
      });
      try {
        const pending = assert.rejects(
          within(t.client.request("never"), 5000, "rejection"),
          ConnectionClosedError,
        );
        await until(() => t.client.pendingRequests === 1, 5000, "pending");
        t.server.abort();
        await pending;
        assert.ok((await t.client.closed) instanceof ConnectionClosedError);
      } finally {
        await t.close();
      }
    });

    test("a stream whose consumer never reads does not stall other requests", async () => {
      const t = await peers(factory);
      try {
        const { writable, readable } = t.client.streamRequest("parts");
        void writable; // a single-part streaming request: write the op's JSON then end
        const w = writable.getWriter();
        await w.write(enc.encode('{"count":200,"size":1024}'));
        await w.close();
        // Never read `readable`; meanwhile other requests complete.
        for (let i = 0; i < 100; i++) {
          assert.equal(text(await t.client.bufferRequest("echo", enc.encode(`r${i}`))), `r${i}`);
        }
        await readable.cancel();
      } finally {
        await t.close();
      }
    });

    test("a stream consumer that stops reading fails alone after its stall timeout", async () => {
      const t = await peers(factory, {}, {
        streamBufferBytes: 64 * 1024,
        streamStallTimeoutMs: 100,
      });
      try {
        const { writable, readable } = t.client.streamRequest("parts");
        const w = writable.getWriter();
        await w.write(enc.encode('{"count":300,"size":1024}'));
        await w.close();
        assert.equal(await t.client.request("upper", "a"), "A");
        const reader = readable.getReader();
        await until(() => t.client.pendingRequests === 0, 10_000, "the overflow");
        await assert.rejects(
          (async () => {
            for (let i = 0; i < 1000; i++) if ((await reader.read()).done) return;
          })(),
          StreamOverflowError,
        );
        assert.equal(await t.client.request("upper", "b"), "B");
      } finally {
        await t.close();
      }
    });

    test("a slow but steady result consumer slows its sender instead of failing", async () => {
      const t = await peers(factory, {}, {
        streamBufferBytes: 16 * 1024,
        streamStallTimeoutMs: 2000,
      });
      try {
        const { writable, readable } = t.client.streamRequest("parts");
        const w = writable.getWriter();
        await w.write(enc.encode('{"count":1024,"size":1024}'));
        await w.close();
        let total = 0;
        for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
          total += part.length;
          if (total % (64 * 1024) === 0) await delay(1);
        }
        assert.equal(total, 1024 * 1024);
        assert.equal(await t.client.request("upper", "after"), "AFTER");
      } finally {
        await t.close();
      }
    });

    test("a slow but steady request-stream handler slows the uploader instead of failing", async () => {
      const t = await peers(factory, { streamBufferBytes: 16 * 1024, streamStallTimeoutMs: 2000 });
      try {
        const { writable, readable } = t.client.streamRequest("stream-count-slowly");
        const w = writable.getWriter();
        const writing = (async () => {
          for (let i = 0; i < 512; i++) await w.write(new Uint8Array(4096));
          await w.close();
        })();
        const result: string[] = [];
        for await (const c of readable as unknown as AsyncIterable<Uint8Array>) {
          result.push(text(c));
        }
        await writing;
        assert.deepEqual(result, [String(512 * 4096)]);
      } finally {
        await t.close();
      }
    });

    test("a slow notification handler never blocks the read loop", async () => {
      const t = await peers(factory, {
        handlers: new Handlers()
          .handleNotification("slow", () => new Promise<void>(() => {}))
          .handleBuffer("echo", (p) => p),
      });
      try {
        for (let i = 0; i < 10; i++) await t.client.notify("slow", i);
        assert.equal(text(await t.client.bufferRequest("echo", enc.encode("fast"))), "fast");
      } finally {
        await t.close();
      }
    });

    test("a payload over the remote's limit closes with ProtocolError 2", async () => {
      const t = await peers(factory, { maxPayloadBytes: 1000 });
      try {
        // Large enough that the remote closes while we still write: the close must still say
        // why (the remote's ProtocolError), not that a write failed.
        const r = t.client.bufferRequest("echo", new Uint8Array(4 * 1024 * 1024));
        await assert.rejects(within(r, 5000, "rejection"), (e) => {
          assert.ok(e instanceof ConnectionClosedError, String(e));
          if (factory.relayed) return true;
          assert.ok(e.cause instanceof ProtocolError, String(e.cause));
          assert.ok(e.cause.code === 2 && e.cause.remote);
          return true;
        });
        const reason = await t.client.closed;
        if (!factory.relayed) {
          assert.ok(reason instanceof ProtocolError && reason.code === 2 && reason.remote);
        }
      } finally {
        await t.close();
      }
    });
  });
}
