// Middleware (Handlers.use) and outgoing interceptors: order, short-circuits, errors,
// RetryResults, notifications, sub-handler chains, over the in-memory pipe.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { RemoteError, RetryLimitError } from "./errors.ts";
import { Handlers } from "./handlers.ts";
import type { Interceptor, Middleware, MiddlewareContext } from "./middleware.ts";
import { RetryResult } from "./middleware.ts";
import { Peer } from "./peer.ts";
import type { PeerOptions } from "./options.ts";
import { deferred } from "./_test_fakes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every part of `readable` (Node 20's types have no async iteration of ReadableStream). */
async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  return parts;
}

function pair(server: PeerOptions, client: PeerOptions = {}): [Peer, Peer, () => void] {
  const [a, b] = pipePair();
  const s = new Peer(a, { logger: null, ...server });
  const c = new Peer(b, { logger: null, ...client });
  return [s, c, () => {
    c.abort();
    s.abort();
  }];
}

/** A middleware that records `name>` before and `<name` after the rest of the chain. */
function trace(log: string[], name: string): Middleware {
  return async (_ctx, next) => {
    log.push(`${name}>`);
    try {
      return await next();
    } finally {
      log.push(`<${name}`);
    }
  };
}

describe("Handlers.use: middleware around incoming requests", () => {
  test("the chain runs ancestors' middleware first, in the order added; the handler innermost", async () => {
    const log: string[] = [];
    const base = new Handlers().use(trace(log, "base1")).use(trace(log, "base2"))
      .handle("inherited", () => (log.push("handler"), "from base"));
    const child = new Handlers(base).use(trace(log, "child"))
      .handle("own", () => (log.push("handler"), "from child"));
    const [, client, close] = pair({ handlers: child });
    assert.equal(await client.request("inherited"), "from base");
    assert.deepEqual(log, ["base1>", "base2>", "child>", "handler", "<child", "<base2", "<base1"]);
    log.length = 0;
    assert.equal(await client.request("own"), "from child");
    assert.deepEqual(log, ["base1>", "base2>", "child>", "handler", "<child", "<base2", "<base1"]);
    // A peer serving the parent alone runs only the parent's middleware.
    log.length = 0;
    const [, client2, close2] = pair({ handlers: base });
    assert.equal(await client2.request("inherited"), "from base");
    assert.deepEqual(log, ["base1>", "base2>", "handler", "<base2", "<base1"]);
    close();
    close2();
  });

  test("middleware added while peers run applies to later requests, also through children", async () => {
    const log: string[] = [];
    const base = new Handlers().handle("x", () => 1);
    const child = new Handlers(base);
    const [, client, close] = pair({ handlers: child });
    await client.request("x");
    base.use(trace(log, "late"));
    await client.request("x");
    assert.deepEqual(log, ["late>", "<late"]);
    close();
  });

  test("ctx has the peer, op, kind, id, payload, signal and the connection's data", async () => {
    const seen: MiddlewareContext[] = [];
    const handlers = new Handlers()
      .use((ctx, next) => (seen.push(ctx), next()))
      .handle("json", (v: number) => v + 1)
      .handleBuffer("buffer", (b) => b)
      .handleStream("stream", (parts) => parts)
      .handleFallback(() => new Uint8Array(0));
    const [server, client, close] = pair({ handlers, data: { user: "ada" } });
    assert.equal(await client.request("json", 41), 42);
    await client.bufferRequest("buffer", new Uint8Array([1, 2, 3]));
    const s = client.streamRequest("stream");
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([9]));
    await w.close();
    await readAll(s.readable);
    await client.request("nothing-here");
    assert.deepEqual(seen.map((c) => c.kind), ["json", "buffer", "stream", "buffer"]);
    assert.deepEqual(seen.map((c) => c.op), ["json", "buffer", "stream", "nothing-here"]);
    for (const c of seen) {
      assert.equal(c.peer, server);
      assert.deepEqual(c.data, { user: "ada" });
      assert.equal(c.signal.aborted, false);
      assert.equal(typeof c.id, "string");
      assert.equal(c.id!.length, 4);
    }
    assert.equal(dec.decode(seen[0].payload), "41");
    assert.deepEqual(seen[1].payload, new Uint8Array([1, 2, 3]));
    assert.equal(seen[2].payload, undefined); // a stream handler's parts are not buffered
    close();
  });

  test("short-circuits: a value is sent as JSON, bytes as they are, undefined as an empty result", async () => {
    let ran = 0;
    const handlers = new Handlers()
      .use((ctx, next) => {
        if (ctx.op === "cached") return { cached: true };
        if (ctx.op === "raw") return enc.encode("raw bytes");
        if (ctx.op === "empty") return undefined;
        return next();
      })
      .handle("cached", () => ran++)
      .handleBuffer("raw", () => (ran++, new Uint8Array(0)))
      .handle("empty", () => ran++)
      .handle("passed", () => (ran++, "handled"));
    const [, client, close] = pair({ handlers });
    assert.deepEqual(await client.request("cached"), { cached: true });
    assert.equal(dec.decode(await client.bufferRequest("raw", new Uint8Array(0))), "raw bytes");
    assert.equal(await client.request("empty"), undefined);
    assert.equal(await client.request("passed"), "handled");
    assert.equal(ran, 1);
    close();
  });

  test("a middleware may replace the handler's result, and returning undefined after next() keeps it", async () => {
    const handlers = new Handlers()
      .use(async (_ctx, next) => {
        await next(); // result not returned: kept
      })
      .use(async (ctx, next) => {
        const r = await next();
        return ctx.op === "wrap" ? { wrapped: JSON.parse(dec.decode(r as Uint8Array)) } : r;
      })
      .handle("wrap", () => 5)
      .handle("keep", () => 6);
    const [, client, close] = pair({ handlers });
    assert.deepEqual(await client.request("wrap"), { wrapped: 5 });
    assert.equal(await client.request("keep"), 6);
    close();
  });

  test("errors: a throw answers an ErrorResult and is reported; the handler's throw reaches the middleware", async () => {
    const failed: string[] = [];
    const caught: string[] = [];
    const handlers = new Handlers()
      .use(async (_ctx, next) => {
        try {
          return await next();
        } catch (e) {
          caught.push((e as Error).message);
          throw e;
        }
      })
      .use((ctx, next) => {
        if (ctx.op === "denied") throw new Error("Forbidden");
        return next();
      })
      .handle("denied", () => "never")
      .handle("broken", () => {
        throw new Error("Broken handler");
      });
    const [, client, close] = pair({
      handlers,
      onHandlerError: (e, info) => void failed.push(`${info.op}: ${(e as Error).message}`),
    });
    await assert.rejects(
      client.request("denied"),
      (e) => e instanceof RemoteError && e.message.includes("Forbidden"),
    );
    await assert.rejects(client.request("broken"), /Broken handler/);
    assert.deepEqual(caught, ["Forbidden", "Broken handler"]);
    assert.deepEqual(failed, ["denied: Forbidden", "broken: Broken handler"]);
    close();
  });

  test("exposeHandlerErrors: false hides a middleware's error text too", async () => {
    const handlers = new Handlers().use(() => {
      throw new Error("secret detail");
    }).handle("x", () => 1);
    const [, client, close] = pair({ handlers, exposeHandlerErrors: false });
    await assert.rejects(
      client.request("x"),
      (e) => e instanceof RemoteError && dec.decode(e.payload) === "internal error",
    );
    close();
  });

  test("a thrown RetryResult answers with a RetryResult: retried within the budget, then RetryLimitError", async () => {
    let calls = 0;
    const reported: unknown[] = [];
    const handlers = new Handlers()
      .use((_ctx, next) => {
        if (++calls <= 2) throw new RetryResult(1, "busy");
        return next();
      })
      .handle("work", () => "done");
    const [, client, close] = pair({ handlers, onHandlerError: (e) => void reported.push(e) });
    assert.equal(await client.request("work", null, { maxRetries: 2 }), "done");
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      client.request("work", null, { maxRetries: 1 }),
      (e) => e instanceof RetryLimitError && e.text === "busy" && e.wait === 1 && e.attempts === 2,
    );
    assert.deepEqual(reported, []); // asked for, not a failure
    close();
  });

  test("RetryResult checks its wait", () => {
    assert.throws(() => new RetryResult(-1), RangeError);
    assert.throws(() => new RetryResult(1.5), RangeError);
    assert.equal(new RetryResult(10).message, "retry later");
  });

  test("next() called twice fails the request", async () => {
    const handlers = new Handlers().use(async (_ctx, next) => {
      await next();
      return next();
    }).handle("x", () => 1);
    const [, client, close] = pair({ handlers });
    await assert.rejects(client.request("x"), /next\(\) was called twice/);
    close();
  });

  test("use() refuses what is not a function", () => {
    assert.throws(() => new Handlers().use(5 as never), TypeError);
  });

  test("notifications: middleware sees them, may drop them, and its errors go to onError", async () => {
    const got: string[] = [];
    const errors: unknown[] = [];
    const kinds: string[] = [];
    const done = deferred<void>();
    const handlers = new Handlers()
      .use((ctx, next) => {
        kinds.push(`${ctx.kind} ${ctx.op} ${ctx.id}`);
        if (ctx.op === "dropped") return;
        if (ctx.op === "bad") throw new Error("Bad notification");
        return next();
      })
      .handleNotification("kept", (v: string) => {
        got.push(v);
        done.resolve();
      })
      .handleNotification("dropped", (v: string) => void got.push(v))
      .handleNotification("bad", (v: string) => void got.push(v));
    const [, client, close] = pair({ handlers, onError: (e) => void errors.push(e) });
    await client.notify("dropped", "a");
    await client.notify("bad", "b");
    await client.notify("kept", "c");
    await done.promise;
    assert.deepEqual(got, ["c"]);
    assert.deepEqual(kinds, [
      "notification dropped undefined",
      "notification bad undefined",
      "notification kept undefined",
    ]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /Bad notification/);
    close();
  });

  test("requests refused before dispatch (unknown op, limits) do not run middleware", async () => {
    let ran = 0;
    const handlers = new Handlers().use((_c, next) => (ran++, next())).handle("x", () => 1);
    const [, client, close] = pair({
      handlers,
      maxBufferRequests: 0,
      retryWaitMinMs: 1,
      retryWaitMaxMs: 1,
    });
    await assert.rejects(client.request("x", null, { maxRetries: 0 }), RetryLimitError);
    close();
    const [, client2, close2] = pair({ handlers });
    await assert.rejects(client2.request("unknown"), /unknown operation/);
    assert.equal(ran, 0);
    close2();
  });
});

describe("Outgoing interceptors", () => {
  const echo = new Handlers()
    .handleBuffer("echo", (b) => b)
    .handle("value", (v: unknown) => v)
    .handleStream("stream", (parts) => parts);

  test("they run around requests and notifications, first outermost; peer.intercept() adds inner ones", async () => {
    const log: string[] = [];
    const mark = (name: string): Interceptor => async (call, next) => {
      log.push(`${name}> ${call.kind} ${call.op}`);
      const r = await next();
      log.push(`<${name}`);
      return r;
    };
    const got = deferred<void>();
    const handlers = new Handlers(echo).handleNotification("n", () => got.resolve());
    const [, client, close] = pair({ handlers }, { interceptors: [mark("a")] });
    client.intercept(mark("b"));
    assert.equal(await client.request("value", 1), 1);
    await client.notify("n", null);
    await got.promise;
    assert.deepEqual(log, [
      "a> json value",
      "b> json value",
      "<b",
      "<a",
      "a> notification n",
      "b> notification n",
      "<b",
      "<a",
    ]);
    close();
  });

  test("an interceptor may change the call, answer itself, or fail it", async () => {
    const interceptor: Interceptor = (call, next) => {
      if (call.op === "cached") return enc.encode('"from cache"');
      if (call.op === "blocked") throw new Error("Not allowed offline");
      const value = JSON.parse(dec.decode(call.payload));
      return next({
        ...call,
        op: "value",
        payload: enc.encode(JSON.stringify({ ...value, token: "t" })),
      });
    };
    const [, client, close] = pair({ handlers: echo }, { interceptors: [interceptor] });
    assert.deepEqual(await client.request("anything", { a: 1 }), { a: 1, token: "t" });
    assert.equal(await client.request("cached"), "from cache");
    await assert.rejects(client.request("blocked"), /Not allowed offline/);
    close();
  });

  test("the result an interceptor sees is the raw payload, and remote errors reject next()", async () => {
    const seen: string[] = [];
    const interceptor: Interceptor = async (_call, next) => {
      try {
        const r = await next();
        seen.push(dec.decode(r));
        return r;
      } catch (e) {
        seen.push(`error: ${(e as Error).name}`);
        throw e;
      }
    };
    const [, client, close] = pair({ handlers: echo }, { interceptors: [interceptor] });
    assert.deepEqual(await client.bufferRequest("echo", enc.encode("hi")), enc.encode("hi"));
    await assert.rejects(client.request("missing"), RemoteError);
    assert.deepEqual(seen, ["hi", "error: RemoteError"]);
    close();
  });

  test("streaming requests go through them, synchronously or after a wait", async () => {
    const kinds: string[] = [];
    const sync: Interceptor = (call, next) => (kinds.push(call.kind), next());
    const slow: Interceptor = async (call, next) => {
      await Promise.resolve(); // next() is not called synchronously: the caller gets a bridge
      return next(call);
    };
    for (const interceptors of [[sync], [sync, slow]]) {
      const [, client, close] = pair({ handlers: echo }, { interceptors });
      const { writable, readable } = client.streamRequest("stream");
      const w = writable.getWriter();
      await w.write(enc.encode("a"));
      await w.write(enc.encode("b"));
      await w.close();
      const parts = (await readAll(readable)).map((p) => dec.decode(p));
      assert.deepEqual(parts, ["a", "b"]);
      close();
    }
    assert.deepEqual(kinds, ["stream", "stream"]);
  });

  test("a streaming request whose interceptor throws errors its readable", async () => {
    const [, client, close] = pair({ handlers: echo }, {
      interceptors: [async () => {
        await Promise.resolve();
        throw new Error("No streams today");
      }],
    });
    const { readable } = client.streamRequest("stream");
    await assert.rejects(readable.getReader().read(), /No streams today/);
    close();
  });

  test("interceptors must be functions", () => {
    const [a, b] = pipePair();
    assert.throws(() => new Peer(a, { interceptors: [1 as never] }), TypeError);
    const p = new Peer(b);
    assert.throws(() => p.intercept(null as never), TypeError);
    p.abort();
    a.close();
  });
});
