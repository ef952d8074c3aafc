// deno-lint-ignore-file no-console
/**
 * gotalk.js, the Go reference's own browser client (`js/gotalk.js` of github.com/rsms/gotalk
 * v1.3.7, read from the Go module cache), as a load generator on Bun: the WebSocket client rows
 * of `bench/bench.ts` compare our client with it. It opens one WebSocket, keeps `--inflight`
 * buffer requests in flight, and checks each result's size.
 *
 * ```
 * bun bench/_gotalkjs_client.mjs bench --url ws://HOST:PORT/gotalk/ [--inflight 64] [--size 16]
 *   [--op echo] [--warmup-ms 1000] [--duration-ms 3000]
 * ```
 *
 * It prints one JSON object shaped like `bench/_client.ts`'s (`rps`, `mbps` counting payload
 * bytes both ways, `p50_us`, `p99_us`) and exits 0, or prints the error and exits 1.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const args = process.argv.slice(2);

function flag(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

function intFlag(name, fallback) {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} takes a non-negative integer`);
  return n;
}

/** gotalk.js's source, from the Go module cache. */
function gotalkJs() {
  const cache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  const path = join(cache, "github.com", "rsms", "gotalk@v1.3.7", "js", "gotalk.js");
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`gotalk.js is not at ${path} (go mod download github.com/rsms/gotalk@v1.3.7)`, {
      cause: e,
    });
  }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.floor(q * (sorted.length - 1))] * 1000 * 10) / 10;
}

async function bench() {
  const url = flag("--url", "");
  if (!/^ws:\/\//.test(url)) throw new Error("bench needs --url ws://HOST:PORT/PATH");
  const inflight = Math.max(1, intFlag("--inflight", 64));
  const size = intFlag("--size", 16);
  const op = flag("--op", "echo");
  const warmupMs = intFlag("--warmup-ms", 1000);
  const durationMs = intFlag("--duration-ms", 3000);
  const payload = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);

  // Bun's WebSocket, sending the Origin a page on the server's host would (Go's server wants one).
  class PageWebSocket extends globalThis.WebSocket {
    constructor(url) {
      super(url, { headers: { Origin: `http://${new URL(url).host}` } });
    }
  }
  const gotalk = new Function("WebSocket", gotalkJs() + "\nreturn gotalk;")(PageWebSocket);
  const sock = gotalk.Sock(gotalk.Handlers());
  sock.heartbeatInterval = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gotalk.js did not open ${url} in 10 s`)),
      10_000,
    );
    sock.open(url, (err) => {
      clearTimeout(timer);
      err ? reject(err) : resolve();
    });
  });
  let phase = 0; // 0 warm-up, 1 measured, 2 stop
  const cap = 4_000_000;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let bytes = 0;
  const worker = async () => {
    while (phase !== 2) {
      const t = performance.now();
      const out = await sock.bufferRequest(op, payload);
      const n = out?.byteLength ?? 0; // gotalk.js reads an empty result as no payload
      if (n !== size) throw new Error(`A result of ${n} bytes answered ${size}`);
      if (phase === 1) {
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
  const workers = [];
  for (let i = 0; i < inflight; i++) workers.push(worker());
  const failed = Promise.all(workers).then(() => undefined);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await Promise.race([sleep(warmupMs), failed]);
  phase = 1;
  const t0 = performance.now();
  await Promise.race([sleep(durationMs), failed]);
  phase = 2;
  const seconds = (performance.now() - t0) / 1000;
  let timer;
  await Promise.race([
    failed,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("Requests still pending 5 s after the end")), 5000);
    }),
  ]);
  clearTimeout(timer);
  sock.end();
  if (count === 0) throw new Error("No request completed");
  const sorted = latencies.subarray(0, Math.min(count, cap)).sort();
  console.log(JSON.stringify({
    mode: "gotalkjs-client-bun",
    requests: count,
    seconds,
    rps: count / seconds,
    mbps: bytes / seconds / 1e6,
    p50_us: quantile(sorted, 0.5),
    p99_us: quantile(sorted, 0.99),
    conns: 1,
    inflight,
    size,
    payload_bytes: bytes,
  }));
}

if (args[0] === "bench") {
  try {
    await bench();
    process.exit(0);
  } catch (e) {
    console.error(`bench/_gotalkjs_client.mjs: ${e instanceof Error ? e.stack ?? e.message : e}`);
    process.exit(1);
  }
} else {
  console.error("usage: bench/_gotalkjs_client.mjs bench --url ws://HOST:PORT/PATH [options]");
  process.exit(2);
}
