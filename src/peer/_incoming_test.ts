// The incoming table against a fake wire: admission (closing, limits with RetryResult, unknown
// operations), handlers' results and errors, streaming requests collected or streamed, and
// failing all on close.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError, type RequestId, type RetryMessage } from "../protocol/mod.ts";
import { ConnectionClosedError } from "./errors.ts";
import { Handlers, type Handlers as HandlersType } from "./handlers.ts";
import { InboundFlow } from "./_flow.ts";
import { IncomingRequests } from "./_incoming.ts";
import { FakeLife, FakeWire, turn } from "./_test_fakes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);

function table(handlers: HandlersType, limits: { maxBufferRequests?: number } = {}) {
  const wire = new FakeWire();
  const life = new FakeLife();
  const errors: unknown[] = [];
  const flow = new InboundFlow({ life, readPaused: () => {} }, {
    streamBufferBytes: 1024,
    streamStallTimeoutMs: 1000,
  });
  const signal = new AbortController().signal;
  const incoming = new IncomingRequests({
    wire,
    life,
    flow,
    handlers,
    requestContext: (op) => ({
      peer: undefined as never,
      op,
      signal,
      data: undefined,
      settled() {},
    }),
    notificationContext: (name) => ({ peer: undefined as never, name, data: undefined }),
    reportError: (e) => errors.push(e),
    handlerFailed: () => {},
    events: undefined,
  }, {
    maxPayloadBytes: 8,
    maxBufferRequests: limits.maxBufferRequests ?? Infinity,
    maxStreamRequests: Infinity,
    retryWaitMinMs: 10,
    retryWaitMaxMs: 20,
    exposeHandlerErrors: true,
  });
  return { wire, life, incoming, errors };
}

const request = (id: RequestId, name: string, payload = "") => ({
  type: "r" as const,
  id,
  name,
  payload: bytes(payload),
});

/** The text of the last frame sent, and its type. */
function last(wire: FakeWire): [string, string] {
  const m = wire.sent.at(-1)!;
  return [m.type, "payload" in m ? dec.decode(m.payload) : ""];
}

describe("IncomingRequests", () => {
  test("a synchronous handler is answered at once; a throw is an ErrorResult", () => {
    const handlers = new Handlers()
      .handle("upper", (s: string) => s.toUpperCase())
      .handleBuffer("fail", () => {
        throw new Error("broken");
      });
    const { wire, incoming } = table(handlers);
    incoming.onRequest(request(1, "upper", '"hi"'));
    assert.deepEqual(last(wire), ["R", '"HI"']);
    incoming.onRequest(request(2, "fail"));
    assert.deepEqual(last(wire), ["E", "broken"]);
    incoming.onRequest(request(3, "nope"));
    assert.deepEqual(last(wire), ["E", 'unknown operation "nope"']);
    assert.equal(incoming.handling, 0);
  });

  test("past the limit a request gets a RetryResult with a wait in range", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const handlers = new Handlers().handle("slow", () => gate.then(() => 1));
    const { wire, life, incoming } = table(handlers, { maxBufferRequests: 1 });
    incoming.onRequest(request(1, "slow"));
    incoming.onRequest(request(2, "slow"));
    const retry = wire.sent.at(-1) as RetryMessage;
    assert.equal(retry.type, "e");
    assert.equal(retry.id, 2);
    assert.ok(retry.wait >= 10 && retry.wait <= 20);
    assert.equal(incoming.handling, 1);
    release();
    await turn();
    assert.deepEqual(last(wire), ["R", "1"]);
    assert.equal(incoming.handling, 0);
    assert.ok(life.idleChanges > 0);
  });

  test("while closing, new requests get an ErrorResult and their parts are dropped", () => {
    const { wire, life, incoming } = table(new Handlers().handleStream("s", (p) => p));
    life.open = false;
    incoming.onRequest({ type: "s", id: 5, name: "s", payload: bytes("a") });
    incoming.onPart(5, bytes("b"));
    incoming.onPart(5, bytes(""));
    assert.deepEqual(wire.sent.map((m) => m.type), ["E"]);
    assert.deepEqual(last(wire), ["E", "The connection is closing"]);
  });

  test("a streaming request to a buffer handler is collected, within maxPayloadBytes", async () => {
    const handlers = new Handlers().handleBuffer("len", (p) => bytes(String(p.length)));
    const { wire, incoming } = table(handlers);
    incoming.onRequest({ type: "s", id: 1, name: "len", payload: bytes("abc") });
    incoming.onPart(1, bytes("de"));
    incoming.onPart(1, bytes(""));
    assert.deepEqual(last(wire), ["R", "5"]);
    incoming.onRequest({ type: "s", id: 2, name: "len", payload: bytes("12345") });
    incoming.onPart(2, bytes("6789"));
    assert.deepEqual(last(wire), ["E", "The streaming request exceeds 8 bytes"]);
    incoming.onPart(2, bytes(""));
    await turn();
    assert.equal(wire.sent.length, 2);
    assert.equal(incoming.handling, 0);
  });

  test("a stream handler's parts and its streamed result", async () => {
    const { wire, incoming } = table(new Handlers().handleStream("echo", (parts) => parts));
    incoming.onRequest({ type: "s", id: 7, name: "echo", payload: bytes("a") });
    incoming.onPart(7, bytes("b"));
    incoming.onPart(7, bytes(""));
    for (let i = 0; i < 10 && wire.sent.length < 3; i++) await turn();
    assert.deepEqual(wire.sent.map((m) => [m.type, "payload" in m ? dec.decode(m.payload) : ""]), [
      ["S", "a"],
      ["S", "b"],
      ["S", ""],
    ]);
  });

  test("a streaming request reusing an open id is a protocol error", () => {
    const { incoming } = table(new Handlers().handleStream("s", (p) => p));
    incoming.onRequest({ type: "s", id: 9, name: "s", payload: bytes("a") });
    assert.throws(
      () => incoming.onRequest({ type: "s", id: 9, name: "s", payload: bytes("a") }),
      ProtocolError,
    );
  });

  test("failAll errors the streams still arriving", async () => {
    let parts!: ReadableStream<Uint8Array>;
    const handlers = new Handlers().handleStream("keep", (p) => {
      parts = p;
      return new Promise(() => {});
    });
    const { incoming } = table(handlers);
    incoming.onRequest({ type: "s", id: 3, name: "keep", payload: bytes("a") });
    const error = new ConnectionClosedError("gone");
    incoming.failAll(error);
    // Erroring a stream drops what it held: the handler sees the close error at once.
    await assert.rejects(parts.getReader().read(), (e) => e === error);
  });

  test("a failing notification handler is reported, not thrown", async () => {
    const handlers = new Handlers().handleNotification("n", () => {
      throw new Error("bad");
    }).handleNotification("m", () => Promise.reject(new Error("worse")));
    const { incoming, errors } = table(handlers);
    incoming.onNotification("n", bytes("1"));
    incoming.onNotification("m", bytes("1"));
    incoming.onNotification("unknown", bytes("1"));
    await turn();
    assert.deepEqual(errors.map((e) => (e as Error).message), ["bad", "worse"]);
  });
});
