// Peer unit tests that need no network: the behaviour suite over the in-memory pipe, and the
// corner cases that are about the peer alone. The suite also runs over TCP and TLS from
// src/transports/behaviour_test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { PayloadTooLargeError, RemoteError } from "./errors.ts";
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
});
