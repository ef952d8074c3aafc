/**
 * The client side of `bench/bench.ts`: our {@linkcode Peer} as a client, driving buffer
 * requests against a server with a fixed number in flight, on whichever runtime runs it.
 *
 * ```
 * deno run -A bench/_client.ts bench --url tcp://HOST:PORT|ws://HOST:PORT/PATH [--coalesce]
 *   [--conns 1] [--inflight 64]
 *   [--size 16] [--op echo] [--warmup-ms 1000] [--duration-ms 3000]
 * bun bench/_client.ts bench ...
 * ```
 *
 * It prints one JSON object shaped like go-load's results (`rps`, `mbps` counting payload bytes
 * both ways, `p50_us`, `p99_us`) and exits 0, or prints the error on stderr and exits 1.
 *
 * @module
 */
import { Peer, type Transport } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const args: string[] = runtime === "deno" ? g.Deno.args : g.process.argv.slice(2);

function write(line: string, stderr = false): void {
  if (runtime === "deno") {
    (stderr ? g.Deno.stderr : g.Deno.stdout).writeSync(new TextEncoder().encode(line + "\n"));
  } else {
    (stderr ? g.process.stderr : g.process.stdout).write(line + "\n");
  }
}

function exit(code: number): never {
  if (runtime === "deno") g.Deno.exit(code);
  g.process.exit(code);
  throw new Error("unreachable");
}

function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

function intFlag(name: string, fallback: number): number {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n < 0) {
    write(`${name} takes a non-negative integer`, true);
    exit(2);
  }
  return n;
}

async function connect(url: string): Promise<Transport> {
  // Each runtime loads only its own adapter.
  if (url.startsWith("ws://")) {
    const options = { coalesceWrites: args.includes("--coalesce") };
    if (runtime === "deno") {
      return (await import("../src/transports/websocket/deno.ts")).connectWebSocket(url, options);
    }
    if (runtime === "bun") {
      return (await import("../src/transports/websocket/bun.ts")).connectWebSocket(url, options);
    }
    return (await import("../src/transports/websocket/node.ts")).connectWebSocket(url, options);
  }
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"));
  if (runtime === "deno") {
    return (await import("../src/transports/deno.ts")).connect({ hostname, port: Number(port) });
  }
  if (runtime === "bun") {
    return (await import("../src/transports/bun.ts")).connect({ hostname, port: Number(port) });
  }
  return (await import("../src/transports/node.ts")).connect({ hostname, port: Number(port) });
}

/** The q-quantile of sorted latencies (ms), in microseconds. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.floor(q * (sorted.length - 1))] * 1000 * 10) / 10;
}

const WARMUP = 0;
const MEASURE = 1;
const STOP = 2;

async function bench(): Promise<void> {
  const url = flag("--url", "");
  if (!/^tcp:\/\/[^:/]+:\d+\/?$|^ws:\/\/[^/]+\/\S*$/.test(url)) {
    write("bench needs --url tcp://HOST:PORT or ws://HOST:PORT/PATH", true);
    exit(2);
  }
  const conns = Math.max(1, intFlag("--conns", 1));
  const inflight = Math.max(1, intFlag("--inflight", 64));
  const size = intFlag("--size", 16);
  const op = flag("--op", "echo");
  const warmupMs = intFlag("--warmup-ms", 1000);
  const durationMs = intFlag("--duration-ms", 3000);
  const payload = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);

  const peers: Peer[] = [];
  for (let i = 0; i < conns; i++) {
    const peer = new Peer(await connect(url), { heartbeatIntervalMs: 0 });
    await peer.ready;
    peers.push(peer);
  }
  let phase = WARMUP;
  // Latencies in ms, measured phase only; bounded (a run past the cap keeps counting).
  const cap = 4_000_000;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let bytes = 0;
  const worker = async (peer: Peer) => {
    while (phase !== STOP) {
      const t = performance.now();
      const out = await peer.bufferRequest(op, payload);
      if (out.length !== size) throw new Error(`A result of ${out.length} bytes answered ${size}`);
      if (phase === MEASURE) {
        if (count < cap) {
          if (count === latencies.length) {
            const grown = new Float64Array(latencies.length * 2);
            grown.set(latencies);
            latencies = grown;
          }
          latencies[count] = performance.now() - t;
        }
        count++;
        bytes += 2 * size;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (const peer of peers) for (let i = 0; i < inflight; i++) workers.push(worker(peer));
  const failed = Promise.all(workers).then(() => undefined);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.race([sleep(warmupMs), failed]);
  phase = MEASURE;
  const t0 = performance.now();
  await Promise.race([sleep(durationMs), failed]);
  phase = STOP;
  const seconds = (performance.now() - t0) / 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    failed,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("Requests still pending 5 s after the end")), 5000);
    }),
  ]);
  clearTimeout(timer);
  await Promise.all(peers.map((p) => p.close({ timeoutMs: 1000 })));
  if (count === 0) throw new Error("No request completed");
  const sorted = latencies.subarray(0, Math.min(count, cap)).sort();
  write(JSON.stringify({
    mode: `ts-client-${runtime}`,
    requests: count,
    seconds,
    rps: count / seconds,
    mbps: bytes / seconds / 1e6,
    p50_us: quantile(sorted, 0.5),
    p99_us: quantile(sorted, 0.99),
    conns,
    inflight,
    size,
    payload_bytes: bytes,
  }));
}

if (args[0] === "bench") {
  try {
    await bench();
    exit(0);
  } catch (e) {
    write(`bench/_client.ts: ${e instanceof Error ? e.stack ?? e.message : e}`, true);
    exit(1);
  }
} else {
  write("usage: bench/_client.ts bench --url tcp://HOST:PORT|ws://HOST:PORT/PATH [options]", true);
  exit(2);
}
