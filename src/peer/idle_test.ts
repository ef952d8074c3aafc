// What an idle peer keeps: over a socket transport of this package, a peer between frames keeps
// no decoder (it is made again with the next chunk, where the last one left off), and a closed
// peer keeps none at all. Over this runtime's TCP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage, ProtocolError } from "../protocol/mod.ts";
import { acceptPair, nativeAdapter } from "../transports/_test_factories.ts";
import { Handlers } from "./handlers.ts";
import { Peer } from "./peer.ts";
import { peerStats } from "./_stats.ts";

const enc = new TextEncoder();

/** Resolves after a macrotask turn. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test("a peer between frames keeps no decoder, and the next goes on where it left off", async () => {
  const adapter = await nativeAdapter();
  const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
  const pair = await acceptPair(
    listener,
    () => adapter.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  try {
    const seen: number[] = [];
    const handlers = new Handlers().handleNotification("n", (v: number) => {
      seen.push(v);
    });
    const server = new Peer(pair.server, { handlers, logger: null });
    const writer = pair.client.writable.getWriter();
    const note = (v: number) =>
      encodeMessage({ type: "n", name: "n", payload: enc.encode(String(v)) });
    const sent = [enc.encode("01"), note(1), note(22)];
    // The first frame split inside its header: the decoder holds it between the two chunks.
    await writer.write(new Uint8Array([...sent[0], ...sent[1].subarray(0, 3)]));
    for (let i = 0; i < 1000 && peerStats(server).decoders !== 1; i++) await turn();
    await server.ready;
    assert.equal(peerStats(server).decoders, 1);
    await writer.write(sent[1].subarray(3));
    for (let i = 0; i < 1000 && seen.length < 1; i++) await turn();
    assert.deepEqual(seen, [1]);
    // Parked between frames: no decoder.
    assert.equal(peerStats(server).decoders, 0);
    await writer.write(sent[2]);
    for (let i = 0; i < 1000 && seen.length < 2; i++) await turn();
    assert.deepEqual(seen, [1, 22]);
    // An error's offset counts every byte of the stream, across the decoders.
    await writer.write(enc.encode("x"));
    const error = await server.closed;
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.offset, sent.reduce((n, b) => n + b.length, 0));
    assert.equal(peerStats(server).decoders, 0);
    await writer.close().catch(() => {});
  } finally {
    await pair.close();
  }
});
