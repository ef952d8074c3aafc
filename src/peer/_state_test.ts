// The peer's state makes its promises when first asked for: asked before or after the event,
// `ready` and `closed` settle the same way, and each is one promise however often it is read.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError } from "./errors.ts";
import { PeerState } from "./_state.ts";

const idle = { isIdle: () => true, released() {} };

describe("PeerState", () => {
  test("ready: asked before the handshake or after it, it resolves; one promise", async () => {
    const early = new PeerState(idle);
    const p = early.ready;
    early.handshaken();
    await p;
    assert.equal(early.ready, p);
    const late = new PeerState(idle);
    late.handshaken();
    late.close(undefined, undefined);
    await late.ready; // the handshake came first: a later close does not reject it
    assert.equal(late.ready, late.ready);
  });

  test("ready: closed before the handshake, it rejects, whenever asked", async () => {
    const early = new PeerState(idle);
    const p = early.ready;
    early.close(new Error("boom"), undefined);
    early.handshaken();
    await assert.rejects(p, ConnectionClosedError);
    const late = new PeerState(idle);
    late.close(undefined, undefined); // never asked: no unhandled rejection
    const q = late.ready;
    await assert.rejects(q, ConnectionClosedError);
    assert.equal(late.ready, q);
  });

  test("closed: resolves with the error once released, asked before or after", async () => {
    const error = new Error("why");
    const early = new PeerState(idle);
    const p = early.closedPromise;
    early.close(error, undefined);
    early.released();
    assert.equal(await p, error);
    assert.equal(early.closedPromise, p);
    const late = new PeerState(idle);
    late.close(undefined, undefined);
    late.released();
    assert.equal(await late.closedPromise, undefined);
    assert.equal(late.closedPromise, late.closedPromise);
  });

  test("drain waits for idle, or closes at once when idle", async () => {
    let busy = true;
    const s = new PeerState({ isIdle: () => !busy, released() {} });
    const drained = s.drain(60_000);
    assert.equal(s.open, false);
    busy = false;
    s.idleChanged();
    assert.equal(await drained, true);
    assert.equal(await s.drain(60_000), false, "not open any more");
    assert.equal(await new PeerState(idle).drain(60_000), true);
  });
});
