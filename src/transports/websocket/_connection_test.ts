import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeHandshake, encodeMessage } from "../../protocol/mod.ts";
import { Handlers } from "../../peer/handlers.ts";
import { Peer } from "../../peer/peer.ts";
import type { WebSocketDriver } from "./_driver.ts";
import { WebSocketConnection } from "./_connection.ts";

const params = { writeHighWaterMark: 1 << 20, maxReadBufferBytes: 1 << 25 };

/** A driver that batches its sends (as Bun's `cork` does) and records every message. */
function recording(): { driver: WebSocketDriver; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const driver: WebSocketDriver = {
    send: (bytes) => void sent.push(bytes),
    bufferedAmount: () => 0,
    close: () => {},
    batch: (sends) => sends(),
  };
  return { driver, sent };
}

test("a batching socket gets a large result's payload as the handler's bytes, not a copy", async () => {
  const { driver, sent } = recording();
  const connection = new WebSocketConnection(driver, params);
  assert.equal(connection.zeroCopyBytes, 16 * 1024);
  const big = new Uint8Array(64 * 1024).fill(7);
  const peer = new Peer(connection.transport, {
    handlers: new Handlers().handleBuffer("big", () => big),
  });
  connection.received(encodeHandshake());
  connection.received(
    encodeMessage({ type: "r", id: 1, name: "big", payload: new Uint8Array(0) }),
  );
  // The result's payload is the last message sent; bounded wait for it.
  for (let i = 0; i < 100 && !sent.some((m) => m.byteLength === big.byteLength); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const payload = sent.find((m) => m.byteLength === big.byteLength);
  assert.ok(payload, "the payload was sent as a message of its own");
  assert.equal(payload.buffer, big.buffer, "sent without a copy");
  await peer.close();
});

test("with coalesceWrites each written chunk is one message, so payloads are batched", () => {
  const { driver } = recording();
  const connection = new WebSocketConnection(driver, { ...params, coalesceWrites: true });
  assert.equal(connection.zeroCopyBytes, undefined);
});
