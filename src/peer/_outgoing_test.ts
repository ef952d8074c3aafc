// The outgoing table against a fake wire: ids, dispatch of R S E e, retries, limits, timeouts,
// abort, and failing all on close.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RequestMessage } from "../protocol/mod.ts";
import {
  ConnectionClosedError,
  PayloadTooLargeError,
  RemoteError,
  RetryLimitError,
} from "./errors.ts";
import { InboundFlow } from "./_flow.ts";
import { OutgoingRequests } from "./_outgoing.ts";
import { FakeLife, FakeWire, turn } from "./_test_fakes.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function table(options: { maxPayloadBytes?: number; maxRetries?: number } = {}) {
  const wire = new FakeWire();
  const life = new FakeLife();
  const flow = new InboundFlow({ life, readPaused: () => {} }, {
    streamBufferBytes: 1024,
    streamStallTimeoutMs: 1000,
  });
  const outgoing = new OutgoingRequests({ wire, life, flow }, {
    maxPayloadBytes: options.maxPayloadBytes ?? 1024,
    maxRetries: options.maxRetries ?? 2,
    requestTimeoutMs: 0,
  });
  return { wire, life, outgoing };
}

describe("OutgoingRequests", () => {
  test("ids are distinct printable characters, and a result settles its own request", async () => {
    const { wire, life, outgoing } = table();
    const a = outgoing.send("a", bytes("1"), undefined);
    const b = outgoing.send("b", bytes("2"), undefined);
    const [ra, rb] = wire.sent as RequestMessage[];
    assert.notEqual(ra.id, rb.id);
    for (let shift = 0; shift < 32; shift += 8) {
      assert.match(String.fromCharCode((ra.id >>> shift) & 0xff), /[0-9A-Za-z_-]/);
    }
    outgoing.onResult({ type: "R", id: rb.id, payload: bytes("two") });
    outgoing.onResult({ type: "E", id: ra.id, payload: bytes("no") });
    assert.deepEqual(await b, bytes("two"));
    await assert.rejects(a, (e) => e instanceof RemoteError && e.op === "a" && e.message === "no");
    assert.equal(outgoing.size, 0);
    assert.equal(life.idleChanges, 2);
  });

  test("a streaming result to a buffer request is collected, within maxPayloadBytes", async () => {
    const { wire, outgoing } = table({ maxPayloadBytes: 4 });
    const ok = outgoing.send("ok", bytes(""), undefined);
    const big = outgoing.send("big", bytes(""), undefined);
    const [r1, r2] = wire.sent as RequestMessage[];
    outgoing.onResult({ type: "S", id: r1.id, payload: bytes("ab") });
    outgoing.onResult({ type: "S", id: r1.id, payload: bytes("cd") });
    outgoing.onResult({ type: "S", id: r1.id, payload: bytes("") });
    assert.deepEqual(await ok, bytes("abcd"));
    outgoing.onResult({ type: "S", id: r2.id, payload: bytes("abc") });
    outgoing.onResult({ type: "S", id: r2.id, payload: bytes("de") });
    await assert.rejects(big, (e) => {
      assert.ok(e instanceof PayloadTooLargeError);
      assert.equal(e.op, "big");
      assert.equal(e.size, 5);
      assert.equal(e.limit, 4);
      return true;
    });
  });

  test("a RetryResult resends the same frame until the budget is spent", async () => {
    const { wire, outgoing } = table({ maxRetries: 2 });
    const p = outgoing.send("busy", bytes("x"), undefined);
    const id = (wire.sent[0] as RequestMessage).id;
    for (let i = 0; i < 2; i++) {
      outgoing.onResult({ type: "e", id, wait: 0, payload: bytes("later") });
      await turn();
      assert.equal(wire.sent.length, i + 2);
      assert.deepEqual(wire.sent.at(-1), wire.sent[0]);
    }
    outgoing.onResult({ type: "e", id, wait: 0, payload: bytes("later") });
    await assert.rejects(p, (e) => e instanceof RetryLimitError && e.attempts === 3);
  });

  test("a request waits for the wire to drain before its frame goes out", async () => {
    const { wire, outgoing } = table();
    wire.writable = false;
    const p = outgoing.send("later", bytes(""), undefined);
    assert.equal(wire.sent.length, 0);
    wire.drain();
    await turn();
    const id = (wire.sent[0] as RequestMessage).id;
    outgoing.onResult({ type: "R", id, payload: bytes("ok") });
    assert.deepEqual(await p, bytes("ok"));
  });

  test("timeouts and aborts settle the request once; a late answer is dropped", async () => {
    const { wire, outgoing } = table();
    const timed = outgoing.send("slow", bytes(""), { timeoutMs: 1 });
    await assert.rejects(timed, (e) => e instanceof DOMException && e.name === "TimeoutError");
    const ac = new AbortController();
    const aborted = outgoing.send("gone", bytes(""), { signal: ac.signal });
    ac.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    for (const m of wire.sent as RequestMessage[]) {
      outgoing.onResult({ type: "R", id: m.id, payload: bytes("late") });
    }
    assert.equal(outgoing.size, 0);
  });

  test("failAll rejects every pending request with the close error", async () => {
    const { outgoing } = table();
    const all = [
      outgoing.send("a", bytes(""), undefined),
      outgoing.send("b", bytes(""), undefined),
    ];
    const error = new ConnectionClosedError("gone");
    outgoing.failAll(error);
    for (const p of all) await assert.rejects(p, (e) => e === error);
    assert.equal(outgoing.size, 0);
  });
});
