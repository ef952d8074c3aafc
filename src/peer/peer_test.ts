// Peer unit tests that need no network: the behaviour suite over the in-memory pipe, and the
// corner cases that are about the peer alone. The suite also runs over TCP and TLS from
// src/transports/behaviour_test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pipePair } from "../transports/pipe.ts";
import { Handlers } from "./handlers.ts";
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
    const entry = child.findRequestHandler("unknown");
    assert.ok(entry);
    assert.deepEqual(
      (entry.fn as (p: Uint8Array, c: never) => Uint8Array)(new Uint8Array(0), undefined as never),
      new Uint8Array([2]),
    );
    // An exact match anywhere in the chain beats any fallback.
    parent.handleBuffer("known", () => new Uint8Array([3]));
    assert.notEqual(child.findRequestHandler("known"), entry);
  });
});
