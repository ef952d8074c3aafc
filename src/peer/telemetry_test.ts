// Per-request telemetry events (PeerOptions.onRequestEvent): one event per request and
// notification, both directions, with bytes and the outcome; over the in-memory pipe.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { ConnectionClosedError, RemoteError, RetryLimitError } from "./errors.ts";
import { Handlers } from "./handlers.ts";
import { RetryResult } from "./middleware.ts";
import { Peer } from "./peer.ts";
import type { PeerOptions } from "./options.ts";
import type { RequestEvent } from "./telemetry.ts";
import { deferred } from "./_test_fakes.ts";

const enc = new TextEncoder();

/** Every part of `readable` (Node 20's types have no async iteration of ReadableStream). */
async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  return parts;
}

function recorded(): { events: RequestEvent[]; onRequestEvent: (e: RequestEvent) => void } {
  const events: RequestEvent[] = [];
  return { events, onRequestEvent: (e) => void events.push(e) };
}

function pair(server: PeerOptions, client: PeerOptions): [Peer, Peer] {
  const [a, b] = pipePair();
  return [new Peer(a, { logger: null, ...server }), new Peer(b, { logger: null, ...client })];
}

/** The fields of an event that do not vary from run to run. */
function shape(e: RequestEvent) {
  return [e.direction, e.kind, e.op, e.outcome, e.bytesIn, e.bytesOut];
}

const handlers = new Handlers()
  .handle("upper", (s: string) => s.toUpperCase())
  .handle("fail", () => {
    throw new Error("Nope");
  })
  .handle("busy", () => {
    throw new RetryResult(1, "busy");
  })
  .handle("never", () => new Promise(() => {}))
  .handleBuffer("parts", () =>
    new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(3));
        c.enqueue(new Uint8Array(4));
        c.close();
      },
    }))
  .handleStream("echo", (parts) => parts);

describe("Request telemetry", () => {
  test("a JSON request: one event on each side, with ids, bytes, kind and a duration", async () => {
    const s = recorded();
    const c = recorded();
    const [server, client] = pair({ handlers, ...s }, { ...c });
    assert.equal(await client.request("upper", "abc"), "ABC");
    await client.close();
    assert.deepEqual(c.events.map(shape), [["out", "json", "upper", "ok", 5, 5]]);
    assert.deepEqual(s.events.map(shape), [["in", "json", "upper", "ok", 5, 5]]);
    assert.equal(c.events[0].id, s.events[0].id);
    assert.equal(c.events[0].id?.length, 4);
    assert.equal(c.events[0].peer, client);
    assert.equal(s.events[0].peer, server);
    assert.equal(c.events[0].error, undefined);
    for (const e of [...c.events, ...s.events]) assert.ok(e.durationMs >= 0);
  });

  test("outcomes: error, retry, timeout, closed, unknown op, rate limit", async () => {
    const s = recorded();
    const c = recorded();
    const [server, client] = pair(
      { handlers, ...s, maxBufferRequests: 2, retryWaitMinMs: 1, retryWaitMaxMs: 1 },
      { ...c, maxRetries: 0 },
    );
    await assert.rejects(client.request("fail"), RemoteError);
    await assert.rejects(client.request("busy"), RetryLimitError);
    await assert.rejects(client.request("never", null, { timeoutMs: 1 }), { name: "TimeoutError" });
    await assert.rejects(client.request("missing"), RemoteError);
    const pending = client.request("never"); // the second slot: the next one is refused
    await assert.rejects(client.request("upper", "x"), RetryLimitError);
    server.abort();
    await assert.rejects(pending, ConnectionClosedError);
    await client.closed;
    assert.deepEqual(c.events.map((e) => [e.op, e.outcome]), [
      ["fail", "error"],
      ["busy", "retry"],
      ["never", "timeout"],
      ["missing", "error"],
      ["upper", "retry"],
      ["never", "closed"],
    ]);
    assert.ok(c.events[0].error instanceof RemoteError);
    assert.deepEqual(s.events.map((e) => [e.op, e.outcome]), [
      ["fail", "error"],
      ["busy", "retry"],
      ["missing", "error"],
      ["upper", "retry"],
      ["never", "closed"],
      ["never", "closed"],
    ]);
  });

  test("streams: bytes of every part, both ways", async () => {
    const s = recorded();
    const c = recorded();
    const [, client] = pair({ handlers, ...s }, { ...c });
    assert.equal((await client.bufferRequest("parts", new Uint8Array(2))).length, 7);
    const { writable, readable } = client.streamRequest("echo");
    const w = writable.getWriter();
    await w.write(enc.encode("ab"));
    await w.write(enc.encode("cde"));
    await w.close();
    const total = (await readAll(readable)).reduce((n, p) => n + p.length, 0);
    assert.equal(total, 5);
    await client.close();
    assert.deepEqual(c.events.map(shape), [
      ["out", "buffer", "parts", "ok", 7, 2],
      ["out", "stream", "echo", "ok", 5, 5],
    ]);
    assert.deepEqual(s.events.map(shape), [
      ["in", "buffer", "parts", "ok", 2, 7],
      ["in", "stream", "echo", "ok", 5, 5],
    ]);
    assert.equal(c.events[1].id, s.events[1].id);
  });

  test("notifications, both ways; a failing handler is an error", async () => {
    const s = recorded();
    const c = recorded();
    const got = deferred<void>();
    const h = new Handlers()
      .handleNotification("hi", () => got.resolve())
      .handleNotification("bad", () => {
        throw new Error("Bad");
      });
    const [server, client] = pair({ handlers: h, ...s, onError: () => {} }, { ...c });
    await client.notify("bad", 1);
    await client.notify("hi", "there");
    await got.promise;
    await client.close();
    await server.closed;
    assert.deepEqual(c.events.map(shape), [
      ["out", "notification", "bad", "ok", 0, 1],
      ["out", "notification", "hi", "ok", 0, 7],
    ]);
    assert.deepEqual(s.events.map(shape), [
      ["in", "notification", "bad", "error", 1, 0],
      ["in", "notification", "hi", "ok", 7, 0],
    ]);
    assert.equal(s.events[0].id, undefined);
  });

  test("a request refused locally (closed, too large) is an event too", async () => {
    const c = recorded();
    const [server, client] = pair({ handlers }, { ...c, maxPayloadBytes: 4 });
    await assert.rejects(client.bufferRequest("x", new Uint8Array(5)), {
      name: "PayloadTooLargeError",
    });
    client.abort();
    await assert.rejects(client.request("x"), ConnectionClosedError);
    assert.deepEqual(c.events.map((e) => [e.op, e.outcome, e.id]), [
      ["x", "error", undefined],
      ["x", "closed", undefined],
    ]);
    server.abort();
  });

  test("a listener that throws is reported to onError and changes nothing", async () => {
    const errors: unknown[] = [];
    const [server, client] = pair({ handlers }, {
      onRequestEvent: () => {
        throw new Error("Listener bug");
      },
      onError: (e) => void errors.push(e),
    });
    assert.equal(await client.request("upper", "a"), "A");
    assert.equal(errors.length, 1);
    client.abort();
    server.abort();
  });
});
