// Peer unit tests that need no network: the behaviour suite over the in-memory pipe, and the
// corner cases that are about the peer alone. The suite also runs over TCP and TLS from
// src/transports/behaviour_test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { ProtocolError } from "../protocol/mod.ts";
import { ConnectionClosedError, PayloadTooLargeError, RemoteError } from "./errors.ts";
import { findRequestHandler, Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { peerSuite } from "./_test_suite.ts";

peerSuite({
  name: "pipe",
  pair: () => {
    const [client, server] = pipePair();
    return Promise.resolve({ client, server, close: () => Promise.resolve() });
  },
});

describe("Peer options and handlers", () => {
  test("options out of range are RangeErrors", () => {
    const [a, b] = pipePair();
    assert.throws(() => new Peer(a, { maxPayloadBytes: -1 }), RangeError);
    assert.throws(() => new Peer(a, { retryWaitMinMs: 10, retryWaitMaxMs: 5 }), RangeError);
    assert.throws(() => new Peer(a, { readTimeoutMs: Number.NaN }), RangeError);
    a.close?.();
    b.close?.();
  });

  test("a child handler set's own fallback is reached before the parent's", () => {
    const parent = new Handlers().handleFallback(() => new Uint8Array([1]));
    const child = new Handlers(parent).handleFallback(() => new Uint8Array([2]));
    const entry = findRequestHandler(child, "unknown");
    assert.ok(entry);
    assert.deepEqual(
      (entry.fn as (p: Uint8Array, c: never) => Uint8Array)(new Uint8Array(0), undefined as never),
      new Uint8Array([2]),
    );
    // An exact match anywhere in the chain beats any fallback.
    parent.handleBuffer("known", () => new Uint8Array([3]));
    assert.notEqual(findRequestHandler(child, "known"), entry);
  });
});

describe("Peer errors name what happened", () => {
  const enc = new TextEncoder();

  test("a streamed result past maxPayloadBytes fails that request alone", async () => {
    const [a, b] = pipePair();
    const big = () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(600));
          c.enqueue(new Uint8Array(600));
          c.close();
        },
      });
    const server = new Peer(a, {
      handlers: new Handlers().handleBuffer("big", big).handleBuffer("echo", (p) => p),
    });
    const client = new Peer(b, { maxPayloadBytes: 1000 });
    await assert.rejects(client.bufferRequest("big", new Uint8Array(0)), (e) => {
      assert.ok(e instanceof PayloadTooLargeError);
      assert.equal(e.limit, 1000);
      assert.equal(e.size, 1200);
      return true;
    });
    assert.deepEqual(await client.bufferRequest("echo", enc.encode("ok")), enc.encode("ok"));
    client.abort();
    server.abort();
  });

  test("writing to a streaming request the remote has answered says so", async () => {
    const [a, b] = pipePair();
    const server = new Peer(a, {
      handlers: new Handlers()
        .handleStream("first", async (parts) => {
          const { value } = await parts.getReader().read();
          return value!;
        })
        .handleStream("refuse", () => {
          throw new Error("no thanks");
        }),
      logger: null,
    });
    const client = new Peer(b);
    const answered = client.streamRequest("first");
    const w1 = answered.writable.getWriter();
    await w1.write(enc.encode("one"));
    const results = answered.readable.getReader();
    while (!(await results.read()).done) { /* the single result */ }
    await assert.rejects(
      w1.write(enc.encode("two")),
      (e) =>
        e instanceof DOMException && e.name === "InvalidStateError" && /"first"/.test(e.message),
    );
    const refused = client.streamRequest("refuse");
    const w2 = refused.writable.getWriter();
    await w2.write(enc.encode("one"));
    await assert.rejects(refused.readable.getReader().read(), RemoteError);
    await assert.rejects(w2.write(enc.encode("two")), (e) => e instanceof RemoteError);
    assert.equal(client.isOpen, true);
    client.abort();
    server.abort();
  });

  test("a payload over the sender's own maxPayloadBytes is refused before it is written", async () => {
    const [a, b] = pipePair();
    let release!: () => void;
    const slow = { promise: new Promise<void>((r) => release = r), resolve: () => release() };
    const server = new Peer(a, {
      logger: null,
      maxPayloadBytes: 1000,
      handlers: new Handlers()
        .handleBuffer("echo", (p) => p)
        .handleBuffer("grow", (p) => new Uint8Array(p.length * 2))
        .handleBuffer("grow-stream", (p) =>
          new ReadableStream({
            start(c) {
              c.enqueue(p);
              c.enqueue(new Uint8Array(p.length * 2));
              c.close();
            },
          }))
        .handleBuffer("slow", async (p) => {
          await slow.promise;
          return p;
        })
        .handleStream("count", async (parts) => {
          let n = 0;
          for await (const p of parts as unknown as AsyncIterable<Uint8Array>) n += p.length;
          return enc.encode(String(n));
        }),
    });
    const client = new Peer(b, { maxPayloadBytes: 1000 });
    const inflight = client.bufferRequest("slow", enc.encode("still here"));
    const tooLarge = (kind: string, size: number) => (e: unknown) => {
      assert.ok(e instanceof PayloadTooLargeError);
      assert.equal(e.kind, kind);
      assert.equal(e.size, size);
      assert.equal(e.limit, 1000);
      assert.match(e.message, /"(echo|count|hi)".*\b\d+ bytes.*1000 bytes.*maxPayloadBytes/);
      return true;
    };
    await assert.rejects(
      client.bufferRequest("echo", new Uint8Array(1001)),
      tooLarge("request", 1001),
    );
    await assert.rejects(client.request("echo", "x".repeat(999)), tooLarge("request", 1001));
    await assert.rejects(
      client.bufferNotify("hi", new Uint8Array(2000)),
      tooLarge("notification", 2000),
    );
    await assert.rejects(client.notify("hi", "x".repeat(1000)), tooLarge("notification", 1002));
    const upload = client.streamRequest("count");
    const w = upload.writable.getWriter();
    await w.write(new Uint8Array(10));
    await assert.rejects(w.write(new Uint8Array(1001)), tooLarge("request part", 1001));
    await assert.rejects(upload.readable.getReader().read(), tooLarge("request part", 1001));
    // A handler's result over the server's own limit is answered with an ErrorResult.
    await assert.rejects(client.bufferRequest("grow", new Uint8Array(600)), (e) => {
      assert.ok(e instanceof RemoteError);
      assert.match(e.message, /"grow".*1200 bytes.*1000 bytes.*maxPayloadBytes/);
      return true;
    });
    // So is a part of a streamed result: the parts before it arrive, then the ErrorResult.
    const streamed = client.streamRequest("grow-stream");
    const sw = streamed.writable.getWriter();
    await sw.write(new Uint8Array(600));
    await sw.close();
    const sr = streamed.readable.getReader();
    assert.equal((await sr.read()).value?.length, 600);
    await assert.rejects(sr.read(), (e) => {
      assert.ok(e instanceof RemoteError);
      assert.match(e.message, /"grow-stream".*1200 bytes.*1000 bytes.*maxPayloadBytes/);
      return true;
    });
    // Nothing oversized reached the wire: the connection and the request in flight carry on.
    slow.resolve();
    assert.deepEqual(await inflight, enc.encode("still here"));
    assert.deepEqual(
      await client.bufferRequest("echo", new Uint8Array(1000)),
      new Uint8Array(1000),
    );
    assert.equal(client.isOpen, true);
    client.abort();
    server.abort();
  });

  test("a write that fails after the remote sent a ProtocolError closes with that error", async () => {
    // The remote (driven by hand) refuses a payload over its limit: it sends f00000002 and
    // closes, so our write fails (EPIPE) before we read its frame.
    let input!: ReadableStreamDefaultController<Uint8Array>;
    const transport = {
      readable: new ReadableStream<Uint8Array>({ start: (c) => void (input = c) }),
      writable: new WritableStream<Uint8Array>({
        write(chunk) {
          if (chunk.length < 5000) return;
          setTimeout(() => {
            input.enqueue(enc.encode("f00000002"));
            input.close();
          }, 0);
          throw Object.assign(new Error("Broken pipe"), { code: "EPIPE" });
        },
      }),
      close() {},
    };
    input.enqueue(enc.encode("01"));
    const client = new Peer(transport, { logger: null });
    const other = client.request("echo", "pending");
    const big = client.bufferRequest("echo", new Uint8Array(300_000));
    for (const pending of [other, big]) {
      await assert.rejects(pending, (e) => {
        assert.ok(e instanceof ConnectionClosedError, String(e));
        assert.ok(e.cause instanceof ProtocolError);
        assert.equal(e.cause.code, 2);
        assert.equal(e.cause.remote, true);
        assert.match(e.message, /code 2.*maxPayloadBytes/);
        return true;
      });
    }
    const reason = await client.closed;
    assert.ok(reason instanceof ProtocolError && reason.remote);
  });

  test("handler failures reach the serving side: onHandlerError, the logger, a generic text", async () => {
    const failing = () =>
      new Handlers()
        .handle("secret", () => {
          throw new Error("db password is hunter2");
        })
        .handle("deliberate", (_: unknown, ctx) => {
          throw new RemoteError(ctx.op, "not allowed");
        })
        .handleNotification("tick", () => Promise.reject(new Error("tick broke")));
    const logged: string[] = [];
    const logger = {
      error: (...args: unknown[]) => logged.push(`error ${args.join(" ")}`),
      warn: (...args: unknown[]) => logged.push(`warn ${args.join(" ")}`),
    };
    const seen: Array<[string, unknown, boolean]> = [];
    const onErrorSeen: unknown[] = [];
    for (const expose of [true, false]) {
      logged.length = 0;
      seen.length = 0;
      const [a, b] = pipePair();
      const server: Peer = new Peer(a, {
        handlers: failing(),
        logger,
        exposeHandlerErrors: expose,
        onHandlerError: (e, info) => seen.push([info.op, e, info.peer === server]),
        onError: (e) => onErrorSeen.push(e),
      });
      const client = new Peer(b, { logger: null });
      await assert.rejects(client.request("secret"), (e) => {
        assert.ok(e instanceof RemoteError);
        assert.equal(e.message, expose ? "db password is hunter2" : "internal error");
        return true;
      });
      // A RemoteError thrown on purpose is sent as it is, either way.
      await assert.rejects(client.request("deliberate"), { message: "not allowed" });
      await client.notify("tick");
      await until(() => seen.length === 3);
      assert.deepEqual(seen.map(([op, , same]) => [op, same]), [
        ["secret", true],
        ["deliberate", true],
        ["tick", true],
      ]);
      assert.match(String(seen[0][1]), /hunter2/);
      assert.deepEqual(logged, [
        'error gotalk: handler for "secret" failed: db password is hunter2',
        'error gotalk: handler for "deliberate" failed: not allowed',
        'error gotalk: handler for "tick" failed: tick broke',
      ]);
      client.abort();
      server.abort();
      await server.closed;
    }
    // onError still hears about notification handlers, as before.
    assert.equal(onErrorSeen.length, 2);
  });

  test("protocol errors are logged with their code; logger: null is silent", async () => {
    const logged: string[] = [];
    const logger = { error: () => logged.push("error"), warn: (s: string) => logged.push(s) };
    const [a, b] = pipePair();
    const quiet = new Peer(a, { logger: null });
    const loud = new Peer(b, { logger, maxPayloadBytes: 10 });
    const refused = quiet.bufferRequest("echo", new Uint8Array(11)).catch((e) => e);
    assert.ok((await refused) instanceof ConnectionClosedError);
    await loud.closed;
    assert.equal(logged.length, 1);
    assert.match(logged[0], /^gotalk: protocol error 2 sent.*11 bytes exceeds the limit of 10/);
    await quiet.closed;
  });
});

test("remoteAddr and localAddr come from the transport", () => {
  const [a, b] = pipePair();
  const described = new Peer({
    readable: a.readable,
    writable: a.writable,
    close: () => a.close(),
    remoteAddr: "10.0.0.2:4000",
    localAddr: "10.0.0.1:54321",
  });
  const plain = new Peer(b);
  assert.equal(described.remoteAddr, "10.0.0.2:4000");
  assert.equal(described.localAddr, "10.0.0.1:54321");
  assert.equal(plain.remoteAddr, b.remoteAddr);
  assert.equal(plain.localAddr, b.localAddr);
  described.abort();
  plain.abort();
});

test("values JSON cannot carry faithfully fail that request, naming the op", async () => {
  const [a, b] = pipePair();
  const server = new Peer(a, {
    logger: null,
    handlers: new Handlers()
      .handle("echo", (v: unknown) => v)
      .handle("map", () => new Map([[1, 2]]))
      .handle("later", () => Promise.resolve({ n: 1n })),
  });
  const client = new Peer(b);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: Array<[unknown, RegExp]> = [
    [[1, undefined], /undefined \(at key "1"\)/],
    [{ a: undefined }, /undefined \(at key "a"\)/],
    [{ f: () => 1 }, /a function \(at key "f"\)/],
    [[Symbol("s")], /a symbol/],
    [{ m: new Map() }, /a Map \(at key "m"\)/],
    [new Set([1]), /it holds a Set$/],
    [{ n: 10n }, /a bigint/],
    [cyclic, /circular|cycl/i],
  ];
  for (const [value, why] of cases) {
    await assert.rejects(client.request("echo", value), (e) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, /^The request "echo" cannot be sent as JSON: /);
      assert.match(e.message, why);
      return true;
    });
  }
  await assert.rejects(client.notify("n", { f() {} }), /notification "n" cannot be sent as JSON/);
  // Results too: an ErrorResult naming the op, and the connection carries on.
  await assert.rejects(client.request("map"), /result of "map" cannot be sent as JSON.*a Map/);
  await assert.rejects(client.request("later"), /result of "later" cannot be sent as JSON/);
  assert.equal(await client.request("echo"), undefined); // a top-level undefined: empty payload
  assert.deepEqual(await client.request("echo", { d: new Date(0) }), {
    d: "1970-01-01T00:00:00.000Z",
  });
  client.abort();
  server.abort();
});

describe("Peer timeouts name the op and the limit", () => {
  test("timeoutMs and AbortSignal.timeout alike", async () => {
    // Node does not wait for AbortSignal.timeout's timer: keep the event loop alive meanwhile.
    const keepAlive = setInterval(() => {}, 1000);
    const [a, b] = pipePair();
    const server = new Peer(a, {
      handlers: new Handlers().handle("never", () => new Promise(() => {})),
    });
    const client = new Peer(b);
    const timedOut = (pattern: RegExp) => (e: unknown) => {
      assert.ok(e instanceof DOMException, String(e));
      assert.equal(e.name, "TimeoutError");
      assert.match(e.message, pattern);
      return true;
    };
    await assert.rejects(
      client.request("never", 1, { timeoutMs: 20 }),
      timedOut(/^The request "never" timed out after 20 ms$/),
    );
    await assert.rejects(
      client.request("never", 1, { signal: AbortSignal.timeout(20) }),
      timedOut(/^The request "never" timed out after \d+ ms \(its signal's timeout\)$/),
    );
    const { readable } = client.streamRequest("never", { signal: AbortSignal.timeout(20) });
    await assert.rejects(readable.getReader().read(), timedOut(/"never" timed out after \d+ ms/));
    // Any other abort reason is passed through as it is.
    const ac = new AbortController();
    const r = client.request("never", 1, { signal: ac.signal });
    ac.abort(new Error("mine"));
    await assert.rejects(r, { message: "mine" });
    clearInterval(keepAlive);
    client.abort();
    server.abort();
  });
});

/** Polls `cond`, a bounded number of times. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), "condition not reached");
}
