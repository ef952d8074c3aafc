// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk bench URL`: pipelined buffer requests against a server, a fixed number in flight on
// each connection (as bench/go-load does), then throughput and latency percentiles.

import { Peer } from "../peer/peer.ts";
import { dial, parseTarget, spawnTarget, type Target, UsageError } from "./_url.ts";
import { numberFlag, parseFlags } from "./_flags_tap.ts";
import { isTerminal, write } from "./_tap_io.ts";

/** The help text of `gotalk bench`. */
export const HELP = `Usage: gotalk bench [options] URL
       gotalk bench [options] --spawn "CMD ARGS"

Pipelined load: on each of --conns connections, --inflight buffer requests to --op are kept in
flight, each with a --size byte payload, for --duration after a --warmup. On a terminal a
progress line is shown on stderr. Then: requests/s, MB/s (payload bytes both ways) and the
p50/p90/p99/max latency. The server must answer --op with a result as long as the request
(echo does: gotalk serve has it).

URL is tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH or wss://...

Options:
  --size BYTES       request payload size (default 16)
  --inflight N       requests in flight per connection (default 64)
  --conns N          connections (default 1)
  --duration D       how long to measure, e.g. 5s or 500ms (default 5s)
  --warmup D         load before measuring (default 1s)
  --op NAME          the operation (default echo)
  --json             one JSON object instead of text

Examples:
  gotalk bench tcp://127.0.0.1:1234
  gotalk bench --size 4096 --inflight 16 --conns 4 --duration 10s ws://127.0.0.1:8080/gotalk/
  gotalk bench --json --duration 2s --spawn "gotalk serve --stdio"`;

/** Runs `gotalk bench ARGS`; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const cmd = "gotalk bench";
  let target: Target, size: number, inflight: number, conns: number, durationMs: number;
  let warmupMs: number, op: string, json: boolean;
  try {
    const p = parseFlags(cmd, argv, {
      booleans: ["json"],
      values: ["size", "inflight", "conns", "duration", "warmup", "op", "spawn"],
    });
    const spawn = p.values.get("spawn");
    if (p.positional.length > 1 || (p.positional.length === 1) === (spawn !== undefined)) {
      throw new UsageError(`${cmd} needs a URL or --spawn CMD (one of them)`);
    }
    target = spawn !== undefined ? spawnTarget(spawn) : parseTarget(p.positional[0]);
    size = Math.floor(numberFlag(cmd, p, "size", 16));
    inflight = Math.max(1, Math.floor(numberFlag(cmd, p, "inflight", 64)));
    conns = Math.max(1, Math.floor(numberFlag(cmd, p, "conns", 1)));
    durationMs = numberFlag(cmd, p, "duration", 5000, "ms");
    warmupMs = numberFlag(cmd, p, "warmup", 1000, "ms");
    op = p.values.get("op") ?? "echo";
    json = p.booleans.has("json");
    if (durationMs <= 0) throw new UsageError(`${cmd}: --duration must be more than 0`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${HELP}`);
    return 2;
  }
  const peers: Peer[] = [];
  try {
    for (let i = 0; i < conns; i++) {
      const peer = new Peer(await dial(target, { signal: AbortSignal.timeout(10_000) }), {
        heartbeatIntervalMs: 0,
      });
      peers.push(peer);
      await peer.ready;
    }
  } catch (e) {
    console.error(`${cmd}: cannot connect to ${target.url}: ${e instanceof Error ? e.message : e}`);
    await Promise.all(peers.map((p) => p.close({ timeoutMs: 500 }).catch(() => {})));
    return 3;
  }
  try {
    const r = await load(peers, { size, inflight, durationMs, warmupMs, op });
    const result = {
      url: target.url,
      op,
      size,
      inflight,
      conns,
      requests: r.count,
      seconds: round(r.seconds, 3),
      rps: round(r.count / r.seconds, 1),
      mbps: round((2 * size * r.count) / r.seconds / 1e6, 3),
      p50_ms: round(r.quantile(0.5), 3),
      p90_ms: round(r.quantile(0.9), 3),
      p99_ms: round(r.quantile(0.99), 3),
      max_ms: round(r.quantile(1), 3),
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(
        `${result.requests} requests in ${result.seconds} s over ${conns} connection(s), ` +
          `${inflight} in flight each, ${size} B payloads`,
      );
      console.log(`  ${result.rps} requests/s, ${result.mbps} MB/s`);
      console.log(
        `  latency p50 ${result.p50_ms} ms, p90 ${result.p90_ms} ms, p99 ${result.p99_ms} ms, ` +
          `max ${result.max_ms} ms`,
      );
    }
    return 0;
  } catch (e) {
    console.error(`${cmd}: ${e instanceof Error ? e.message : e}`);
    return 3;
  } finally {
    await Promise.all(peers.map((p) => p.close({ timeoutMs: 1000 }).catch(() => {})));
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

interface LoadOptions {
  size: number;
  inflight: number;
  durationMs: number;
  warmupMs: number;
  op: string;
}

/** Keeps `inflight` requests in flight on each peer; latencies of the measured phase, in ms. */
async function load(peers: Peer[], o: LoadOptions) {
  const payload = new Uint8Array(o.size).map((_, i) => (i * 31 + 7) & 0xff);
  let measuring = false;
  let stop = false;
  // Bounded: past the cap, requests are counted but their latency is not kept.
  const cap = 4_000_000;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const worker = async (peer: Peer): Promise<void> => {
    while (!stop) {
      const t = performance.now();
      const out = await peer.bufferRequest(o.op, payload, { timeoutMs: 30_000 });
      if (out.length !== o.size) {
        throw new Error(`${o.op} answered ${out.length} bytes to ${o.size}: not an echo`);
      }
      if (!measuring || stop) continue;
      if (count < cap) {
        if (count === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[count] = performance.now() - t;
      }
      count++;
    }
  };
  const workers = peers.flatMap((peer) => Array.from({ length: o.inflight }, () => worker(peer)));
  const failed = Promise.all(workers).then(() => undefined);
  // A failure ends the run at once; the other workers stop at their next result.
  failed.catch(() => void (stop = true));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.race([sleep(o.warmupMs), failed]);
  measuring = true;
  const t0 = performance.now();
  const progress = isTerminal("stderr")
    ? setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      write("stderr", `\r  ${s.toFixed(1)} s  ${count} requests  ${Math.round(count / s)}/s   `);
    }, 250)
    : undefined;
  try {
    await Promise.race([sleep(o.durationMs), failed]);
  } finally {
    if (progress !== undefined) {
      clearInterval(progress);
      write("stderr", "\r\x1b[K");
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    failed,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("Requests still pending 30 s after the end")),
        30_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  if (count === 0) throw new Error("No request completed");
  const sorted = latencies.subarray(0, Math.min(count, cap)).sort();
  return {
    count,
    seconds,
    quantile: (q: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))],
  };
}
