// Mutation fuzzing of a live Peer: seeded mutated byte streams (see src/protocol/_test_fuzz.ts)
// sent as raw bytes to a serving Peer, over an in-memory pipe and over this runtime's loopback
// TCP, on every runtime.
//
// Properties, for every fuzzed connection:
// - the serving Peer ends it: `closed` settles (bounded) with no error, a ProtocolError or a
//   ConnectionClosedError, never anything else, and the process neither crashes nor hangs;
// - no handler ever sees a payload over the Peer's maxPayloadBytes;
// - once closed, the Peer holds nothing (pending requests, handlers, streams, queued bytes,
//   signals: its diagnostic stats are all zero);
// - meanwhile a well-behaved client on another connection of the same server gets its echo
//   answered, once per fuzzed connection.
//
// Counts: GOTALK_FUZZ_INPUTS / 10 connections over the pipe and / 50 over TCP (10,000 and
// 2,000 by default), each up to 8 frames long, seeded by GOTALK_FUZZ_SEED. A failure prints the
// seed, the input's index and its hex; keep it by adding the hex to `regressions` below.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Handlers } from "../peer/handlers.ts";
import { Peer } from "../peer/peer.ts";
import { ConnectionClosedError } from "../peer/errors.ts";
import { peerStats } from "../peer/_stats.ts";
import type { Listener, Transport } from "../peer/transport.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  fromHex,
  fuzzInput,
  fuzzInputs,
  fuzzSeed,
  inputSeed,
  randomChunks,
  Rng,
  toHex,
} from "../protocol/_test_fuzz.ts";
import { pipePair } from "./pipe.ts";
import { nativeAdapter } from "./_test_factories.ts";

/** Inputs that once failed (hex of the whole byte stream, handshake included), replayed first. */
const regressions: Array<{ hex: string; note: string }> = [
  {
    hex: toHex(new TextEncoder().encode("01s0001004echo00000001ap000100000002ab")),
    note: "a streaming request to a buffer handler, unended at the close (its slot was kept)",
  },
  {
    hex: toHex(new TextEncoder().encode("01f00000003s0001005upper00000001xn004note00000000")),
    note: "frames after the remote's ProtocolError in one chunk (they reached the closed peer)",
  },
  {
    hex: toHex(new TextEncoder().encode('01r0001005sleep0000000f{"ms":1000000}')),
    note: "a long sleep",
  },
  { hex: toHex(new TextEncoder().encode("01R0001ffffffff")), note: "a 4 GiB result declared" },
];

const MAX_PAYLOAD = 4096;
/** Bounds every wait (a hang guard, not a timing assertion). */
const HANG_MS = 15_000;

const enc = new TextEncoder();
let oversized = 0;
/** Figures: payloads that reached a handler, and how fuzzed connections ended. */
const seen = { payloads: 0, protocolErrors: 0, other: 0 };

function checkSize(p: Uint8Array): Uint8Array {
  seen.payloads++;
  if (p.length > MAX_PAYLOAD) oversized++;
  return p;
}

const handlers = new Handlers()
  .handleBuffer("echo", (p) => checkSize(p).slice())
  .handle("upper", (s: string) => String(s).toUpperCase())
  .handle("sleep", async ({ ms, value }: { ms: number; value: unknown }, ctx) => {
    // Long sleeps end with the connection (the documented cancellation pattern).
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(Number(ms) || 0, 60_000));
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    return value;
  })
  .handleStream(
    "stream-echo",
    (parts) =>
      parts.pipeThrough(new TransformStream({ transform: (p, c) => c.enqueue(checkSize(p)) })),
  )
  .handleNotificationFallback((p) => void checkSize(p));

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer within ${HANG_MS} ms`)),
        HANG_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Writes `chunks` as raw bytes, ends the stream, and reads everything the server sends back. */
async function attack(t: Transport, chunks: Uint8Array[]): Promise<number> {
  let received = 0;
  const reading = (async () => {
    const reader = t.readable.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
      }
    } catch {
      // A reset by the server is one of the ways it may end a bad connection.
    }
  })();
  const writer = t.writable.getWriter();
  try {
    for (const c of chunks) await writer.write(c);
    await writer.close();
  } catch {
    // The server may close before it read everything: that is allowed.
  }
  await reading;
  t.close();
  return received;
}

interface Setup {
  /** A raw connection to the server, whose serving Peer is `served`. */
  connect(): Promise<{ attacker: Transport; served: Peer }>;
  /** The well-behaved client on its own connection. */
  good: Peer;
  close(): Promise<void>;
}

function pipeSetup(): Setup {
  const [a, b] = pipePair();
  const goodServer = new Peer(a, { handlers, maxPayloadBytes: MAX_PAYLOAD, logger: null });
  const good = new Peer(b);
  return {
    good,
    connect() {
      const [attacker, server] = pipePair();
      const served = new Peer(server, { handlers, maxPayloadBytes: MAX_PAYLOAD, logger: null });
      return Promise.resolve({ attacker, served });
    },
    async close() {
      good.abort();
      goodServer.abort();
      await goodServer.closed;
    },
  };
}

async function tcpSetup(): Promise<Setup> {
  const adapter = await nativeAdapter();
  const listener: Listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const serve = (t: Transport) =>
    new Peer(t, { handlers, maxPayloadBytes: MAX_PAYLOAD, logger: null });
  const [goodClient, goodServerSide] = await Promise.all([
    adapter.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  const goodServer = serve(goodServerSide!);
  const good = new Peer(goodClient);
  return {
    good,
    async connect() {
      const [attacker, server] = await Promise.all([
        adapter.connect({ hostname: "127.0.0.1", port }),
        listener.accept(),
      ]);
      return { attacker, served: serve(server!) };
    },
    async close() {
      good.abort();
      goodServer.abort();
      await goodServer.closed;
      listener.close();
    },
  };
}

/**
 * Waits (bounded: handlers that saw the close may still be finishing) until the closed peer
 * holds nothing: no pending requests, handlers, streams, queued bytes or live signals.
 */
async function released(peer: Peer): Promise<void> {
  const held = () => Object.entries(peerStats(peer)).filter(([, n]) => n !== 0);
  for (let i = 0; i < 200 && held().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(held(), [], "the closed peer still holds something");
}

/** One fuzzed connection, checked; throws with the seed and the input's hex. */
async function fuzzOne(setup: Setup, input: Uint8Array, rng: Rng, label: string): Promise<void> {
  try {
    const before = oversized;
    const { attacker, served } = await setup.connect();
    const ping = enc.encode(label);
    const [, closed, echoed] = await Promise.all([
      within(attack(attacker, randomChunks(rng, input)), "the fuzzed connection"),
      within(served.closed, "the serving peer's close"),
      within(setup.good.bufferRequest("echo", ping), "the other connection's echo"),
    ]);
    assert.ok(
      closed === undefined || closed instanceof ProtocolError ||
        closed instanceof ConnectionClosedError,
      `the serving peer closed with ${closed}`,
    );
    if (closed instanceof ProtocolError) seen.protocolErrors++;
    else seen.other++;
    assert.deepEqual(echoed, ping, "the other connection's echo came back different");
    assert.equal(oversized, before, "a handler saw a payload over maxPayloadBytes");
    await released(served);
  } catch (e) {
    throw new Error(
      `Peer fuzz failure (${label}): ${e instanceof Error ? e.message : e}\ninput hex: ${
        toHex(input)
      }\nadd it to \`regressions\` in src/transports/fuzz_test.ts to keep it`,
      { cause: e },
    );
  }
}

async function run(setup: Setup, count: number, name: string): Promise<void> {
  const seed = fuzzSeed();
  try {
    for (const r of regressions) {
      await fuzzOne(setup, fromHex(r.hex), new Rng(1), `regression: ${r.note}`);
    }
    const t0 = performance.now();
    const start = { ...seen };
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const rng = new Rng(inputSeed(seed ^ 0x5eed, i));
      // Mostly a handshake first, so that the frames after it reach the session.
      const input = fuzzInput(rng, [], { handshake: rng.chance(0.9), maxFrames: 8 });
      bytes += input.length;
      await fuzzOne(setup, input, rng, `${name}, GOTALK_FUZZ_SEED=${seed} input ${i}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const errors = seen.protocolErrors - start.protocolErrors;
    const payloads = seen.payloads - start.payloads;
    // deno-lint-ignore no-console
    console.log(
      `peer fuzz over ${name}: ${count} connections, ${bytes} bytes (seed ${seed}) in ${
        seconds.toFixed(1)
      } s; ${errors} closed with a ProtocolError, ${payloads} payloads reached handlers`,
    );
    assert.ok(errors > 0, "no fuzzed connection ended in a ProtocolError: the mutators do nothing");
    assert.ok(payloads > 0, "no fuzzed frame reached a handler: the corpus is broken");
  } finally {
    await setup.close();
  }
}

describe("peer fuzz", () => {
  const inputs = fuzzInputs(100_000);
  test("over a pipe", async () => {
    await run(pipeSetup(), Math.ceil(inputs / 10), "pipe");
  });
  test("over loopback TCP", async () => {
    await run(await tcpSetup(), Math.ceil(inputs / 50), "tcp");
  });
});
