// deno-lint-ignore-file no-console
/**
 * What an idle, handshaken Peer keeps on the heap, in bytes per peer, without sockets: N peers
 * over cheap in-memory transports (a readable that yields the remote's handshake once and then
 * nothing, a writable that discards), the heap measured after a forced GC.
 *
 * The rows: `transports` (N transports alone, untouched), `consumed` (N transports with what any
 * reader of them holds: a reader with a read pending, a writer, the handshake read and one chunk
 * written), and `peers` (N Peers over N transports, made as a server makes them: one options
 * object with one handler set, the defaults otherwise, heartbeats on; each handshaken, its
 * `ready` awaited). `peer own` is `peers` minus `consumed`: what the Peer itself adds over the
 * least a consumer of the two streams holds. Each row is the median of `--rounds` rounds.
 *
 * Run: `deno run --v8-flags=--expose-gc bench/_peer_heap.ts [--n 2000] [--rounds 3] [--json]
 * [--options '{"heartbeatIntervalMs":0}']` (`--options`: more PeerOptions, as JSON). On Bun:
 * `bun run bench/_peer_heap.ts` (it has `Bun.gc`); on Node, bundled first:
 * `esbuild bench/_peer_heap.ts --bundle --platform=node --format=esm --outfile=/tmp/h.mjs`,
 * then `node --expose-gc /tmp/h.mjs`. With `--snapshot PREFIX` it writes a heap snapshot (node:v8) of
 * each row's first round while its items are alive (`PREFIX-peers.heapsnapshot`, ...);
 * `bench/_heap_diff.ts` counts what one has more than another, per item, by constructor.
 *
 * @module
 */

import { Handlers } from "../src/peer/handlers.ts";
import { Peer } from "../src/peer/peer.ts";
import type { PeerOptions } from "../src/peer/options.ts";
import type { Transport } from "../src/peer/transport.ts";
import { encodeHandshake } from "../src/protocol/mod.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const N = Number(arg("n", "2000"));
const ROUNDS = Number(arg("rounds", "3"));
const JSON_OUT = args.includes("--json");
const SNAPSHOT = arg("snapshot", "");

const HANDSHAKE = encodeHandshake();

/** An idle transport: the remote's handshake once, then nothing; writes are discarded. */
function idleTransport(): Transport {
  let sent = false;
  return {
    readable: new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) {
          sent = true;
          c.enqueue(HANDSHAKE.slice());
        }
      },
    }),
    writable: new WritableStream<Uint8Array>({ write() {} }),
    close() {},
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc ??
    (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc.bind(null, true);
  if (g === undefined) throw new Error("no gc: run with --v8-flags=--expose-gc (or --expose-gc)");
  for (let i = 0; i < 4; i++) g();
}

function heapUsed(): number {
  const d = (globalThis as { Deno?: { memoryUsage(): { heapUsed: number } } }).Deno;
  if (d) return d.memoryUsage().heapUsed;
  return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process
    .memoryUsage().heapUsed;
}

const settle = () => new Promise<void>((r) => setTimeout(r, 20));

/** Heap bytes per item that `make` keeps alive, after `ready` resolved for all of them. */
async function measure<T>(
  name: string,
  round: number,
  make: () => T,
  ready: (items: T[]) => Promise<void>,
  release: (items: T[]) => Promise<void>,
): Promise<number> {
  await settle();
  gc();
  const before = heapUsed();
  const items: T[] = [];
  for (let i = 0; i < N; i++) items.push(make());
  await ready(items);
  await settle();
  gc();
  const after = heapUsed();
  if (SNAPSHOT && round === 0) {
    const v8 = await import("node:v8");
    const file = `${SNAPSHOT}-${name}.heapsnapshot`;
    v8.writeHeapSnapshot(file);
    snapshots.push(file);
  }
  await release(items);
  items.length = 0;
  return (after - before) / N;
}
const snapshots: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A server's peers: shared handlers and options, the defaults otherwise (heartbeats on). */
const handlers = new Handlers().handle("echo", (v: unknown) => v);
const serverOptions: PeerOptions = { handlers, logger: null, ...JSON.parse(arg("options", "{}")) };

const rows: Record<string, number[]> = { transports: [], consumed: [], peers: [] };
for (let round = 0; round < ROUNDS; round++) {
  rows.transports.push(
    await measure(
      "transports",
      round,
      idleTransport,
      () => Promise.resolve(),
      () => Promise.resolve(),
    ),
  );
  rows.consumed.push(
    await measure(
      "consumed",
      round,
      () => {
        const t = idleTransport();
        const reader = t.readable.getReader();
        const writer = t.writable.getWriter();
        writer.write(HANDSHAKE.slice());
        const first = reader.read().then(() => void reader.read());
        return { t, reader, writer, first };
      },
      async (items) => void await Promise.all(items.map((i) => i.first)),
      () => Promise.resolve(),
    ),
  );
  rows.peers.push(
    await measure(
      "peers",
      round,
      () => new Peer(idleTransport(), serverOptions),
      async (peers) => void await Promise.all(peers.map((p) => p.ready)),
      async (peers) => {
        for (const p of peers) p.abort();
        await Promise.all(peers.map((p) => p.closed));
      },
    ),
  );
}

const result = {
  n: N,
  rounds: ROUNDS,
  transports: Math.round(median(rows.transports)),
  consumed: Math.round(median(rows.consumed)),
  peers: Math.round(median(rows.peers)),
  peerOwn: Math.round(median(rows.peers) - median(rows.consumed)),
  peerOverTransport: Math.round(median(rows.peers) - median(rows.transports)),
};
if (JSON_OUT) {
  console.log(JSON.stringify(result));
} else {
  console.log(`N=${N}, median of ${ROUNDS} rounds, heap bytes per item:`);
  console.log(`  transport alone            ${result.transports}`);
  console.log(`  transport + reader/writer  ${result.consumed}`);
  console.log(`  peer over a transport      ${result.peers}`);
  console.log(`  peer own (minus consumed)  ${result.peerOwn}`);
  console.log(`  peer minus transport alone ${result.peerOverTransport}`);
  for (const file of snapshots) console.log(`  heap snapshot: ${file}`);
}
