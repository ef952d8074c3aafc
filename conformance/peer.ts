/**
 * The TypeScript conformance peer: implements the contract in conformance/README.md through the
 * public API only, on Deno, Bun and Node (Node runs the compiled build in .build/node/).
 *
 * ```
 * deno run -A conformance/peer.ts serve --transport tcp|ws --addr 127.0.0.1:0 [options]
 * deno run -A conformance/peer.ts serve --transport stdio [options]   (one peer on stdin/stdout)
 * bun conformance/peer.ts check --url tcp://127.0.0.1:PORT|ws://127.0.0.1:PORT/gotalk/ [--only ID,...]
 * node .build/node/conformance/peer.js serve ...
 * ```
 *
 * @module
 */
import {
  ConnectionClosedError,
  Handlers,
  type Listener,
  Peer,
  type PeerOptions,
  RemoteError,
  Server,
  type Transport,
} from "../mod.ts";
import { browserBundleRoute } from "../src/server/bundle_route.ts";
import { concat, type Notes, serveHandlers } from "../src/cli/_ops.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const args: string[] = runtime === "deno" ? g.Deno.args : g.process.argv.slice(2);

interface Adapter {
  connect(options: { hostname?: string; port: number }): Promise<Transport>;
  listen(options: { hostname?: string; port: number }): Promise<Listener>;
  stdio(): Transport;
}

async function adapter(): Promise<Adapter> {
  // Each runtime loads only its own adapter.
  if (runtime === "deno") return await import("../src/transports/deno.ts");
  if (runtime === "bun") return await import("../src/transports/bun.ts");
  return await import("../src/transports/node.ts");
}

interface WsAdapter {
  serveWebSocket(options: {
    hostname?: string;
    port: number;
    routes?: (request: Request) => Promise<Response | undefined>;
  }): Promise<Listener & { url: string }>;
  connectWebSocket(url: string): Promise<Transport>;
}

async function wsAdapter(): Promise<WsAdapter> {
  // Each runtime loads only its own WebSocket server (and client; Node's is the `ws` package's).
  if (runtime === "deno") return await import("../src/transports/websocket/deno.ts");
  if (runtime === "bun") return await import("../src/transports/websocket/bun.ts");
  return await import("../src/transports/websocket/node.ts");
}

function print(line: string): void {
  if (runtime === "deno") {
    g.Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
  } else {
    g.process.stdout.write(line + "\n");
  }
}

function printError(line: string): void {
  if (runtime === "deno") g.Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  else g.process.stderr.write(line + "\n");
}

function exit(code: number): never {
  if (runtime === "deno") g.Deno.exit(code);
  g.process.exit(code);
  throw new Error("unreachable");
}

function onSignals(fn: () => void): void {
  for (const sig of ["SIGTERM", "SIGINT"]) {
    if (runtime === "deno") g.Deno.addSignalListener(sig, fn);
    else g.process.on(sig, fn);
  }
}

/** The built browser bundle (`.build/browser/gotalk.js` above this file), if any. */
function readBundle(): Uint8Array | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const path = join(dir, ".build", "browser", "gotalk.js");
    if (existsSync(path)) return new Uint8Array(readFileSync(path));
    dir = dirname(dir);
  }
  return undefined;
}

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function numberFlag(name: string, fallback: number): number {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    printError(`${name} takes a non-negative integer, got ${v}`);
    exit(2);
  }
  return n;
}

function parseAddr(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, i) || "127.0.0.1", port: Number(addr.slice(i + 1)) };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// serve (the operations are src/cli/_ops.ts, which `gotalk serve` shares)

async function serve(): Promise<void> {
  const transport = flag("--transport") ?? "tcp";
  if (transport !== "tcp" && transport !== "ws" && transport !== "stdio") {
    printError(`--transport ${transport} is not supported by this peer yet`);
    exit(2);
  }
  // The contract's defaults are "no heartbeats, no read timeout"; `--defaults` keeps the
  // library's own defaults instead (heartbeats every 15 s), as a real deployment would.
  const libraryDefaults = args.includes("--defaults");
  const options: PeerOptions = {
    handlers: serveHandlers(),
    maxBufferRequests: numberFlag("--max-buffer-requests", Infinity),
    maxStreamRequests: numberFlag("--max-stream-requests", Infinity),
    readTimeoutMs: numberFlag("--read-timeout", 0),
  };
  // The frame deadline and the write stall timeout keep the library's defaults unless given
  // (the stress section runs them short: conformance/stress.ts).
  if (flag("--frame-timeout") !== undefined) {
    options.frameTimeoutMs = numberFlag("--frame-timeout", 0);
  }
  if (flag("--write-stall-timeout") !== undefined) {
    options.writeStallTimeoutMs = numberFlag("--write-stall-timeout", 0);
  }
  if (!libraryDefaults || args.includes("--heartbeat")) {
    options.heartbeatIntervalMs = numberFlag("--heartbeat", 0);
  }
  const maxPayload = numberFlag("--max-payload", 0);
  if (maxPayload > 0) options.maxPayloadBytes = maxPayload;
  if (transport === "stdio") {
    // Exactly one peer, over this process's stdin and stdout: nothing else is printed there.
    const peer = new Peer((await adapter()).stdio(), options);
    onSignals(() => void peer.close({ timeoutMs: 1000 }));
    const error = await peer.closed;
    if (error && !(error instanceof ConnectionClosedError)) printError(`peer closed: ${error}`);
    exit(0);
  }
  const addr = parseAddr(flag("--addr") ?? "127.0.0.1:0");
  let server: Server;
  if (transport === "ws") {
    // Upgrades at /gotalk/; the default origin policy (same origin) admits the Go client's and
    // ours, which send Origin: http://HOST:PORT.
    // Our browser bundle at /gotalk/gotalk.js (ETag, gzip, 304), like Go's server serves
    // gotalk.js, when it has been built (scripts/build_browser.ts).
    const bundle = readBundle();
    const routes = bundle ? browserBundleRoute(bundle) : undefined;
    const listener = await (await wsAdapter()).serveWebSocket({ ...addr, routes });
    server = new Server(listener, options);
    print(`READY ${listener.url}`);
  } else {
    const { listen } = await adapter();
    server = new Server(await listen(addr), options);
    print(`READY tcp://${server.addr.hostname}:${server.addr.port}`);
  }
  let stopping = false;
  onSignals(() => {
    if (stopping) return;
    stopping = true;
    server.close({ timeoutMs: 1000 }).finally(() => exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// check

type Check = (peer: Peer, ctx: CheckContext) => Promise<void>;

interface CheckContext {
  pushed: Array<{ name: string; value: unknown }>;
}

function assert(cond: unknown, detail: string): asserts cond {
  if (!cond) throw new Error(detail);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function echo(peer: Peer, payload: Uint8Array): Promise<void> {
  const out = await peer.bufferRequest("echo", payload);
  assert(sameBytes(out, payload), `echo of ${payload.length} bytes came back different`);
}

const checks: Array<[string, Check]> = [
  ["echo-empty", (p) => echo(p, new Uint8Array(0))],
  ["echo-small", (p) => echo(p, enc.encode("hello gotalk"))],
  ["echo-1mib", (p) => echo(p, new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff))],
  ["echo-binary", (p) => echo(p, new Uint8Array(256).map((_, i) => i))],
  ["upper-unicode", async (p) => {
    const r = await p.request("upper", "héllo wörld ñ ünïcode ✓");
    assert(r === "HÉLLO WÖRLD Ñ ÜNÏCODE ✓", `got ${JSON.stringify(r)}`);
  }],
  ["fail-error-result", async (p) => {
    const e = await p.bufferRequest("fail", enc.encode("it failed")).catch((e) => e);
    assert(e instanceof RemoteError, `expected an ErrorResult, got ${e}`);
    assert(e.message === "it failed" && e.op === "fail", `got ${JSON.stringify(e.message)}`);
  }],
  ["unknown-op", async (p) => {
    const e = await p.request("no-such-op", 1).catch((e) => e);
    assert(e instanceof RemoteError, `expected an ErrorResult, got ${e}`);
    assert(e.op === "no-such-op" && e.message.length > 0, "empty error text");
  }],
  ["out-of-order", async (p) => {
    const order: number[] = [];
    await Promise.all([
      p.request("sleep", { ms: 300, value: 1 }).then(() => order.push(1)),
      p.request("sleep", { ms: 0, value: 2 }).then(() => order.push(2)),
    ]);
    assert(order[0] === 2 && order[1] === 1, `settled in order ${order}`);
  }],
  ["concurrent-1000", async (p) => {
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) => echo(p, enc.encode(`payload-${i}-${"x".repeat(i % 50)}`)),
      ),
    );
  }],
  ["stream-echo", async (p) => {
    const sizes = [1, 10, 100, 1000, 10_000, 65_536, 3, 7, 100_000, 2];
    const { writable, readable } = p.streamRequest("stream-echo");
    const writer = writable.getWriter();
    const writing = (async () => {
      for (let i = 0; i < sizes.length; i++) {
        await writer.write(new Uint8Array(sizes[i]).fill(i + 1));
      }
      await writer.close();
    })();
    const received: Uint8Array[] = [];
    for await (const part of readable as unknown as AsyncIterable<Uint8Array>) received.push(part);
    await writing;
    const total = received.reduce((n, r) => n + r.length, 0);
    const want = sizes.reduce((a, b) => a + b, 0);
    assert(total === want, `received ${total} bytes, want ${want}`);
    const flat = new Uint8Array(total);
    let o = 0;
    for (const r of received) {
      flat.set(r, o);
      o += r.length;
    }
    o = 0;
    for (let i = 0; i < sizes.length; i++) {
      for (let j = 0; j < sizes[i]; j++) assert(flat[o++] === i + 1, `part ${i} corrupted`);
    }
  }],
  ["notify-back", async (p, ctx) => {
    const r = await p.request("notify-back", { name: "check-note", value: { n: 42 } });
    assert(r === true, `notify-back answered ${JSON.stringify(r)}`);
    await waitFor(() => ctx.pushed.some((x) => x.name === "check-note"), 5000, "notification");
    const got = ctx.pushed.find((x) => x.name === "check-note")!;
    assert(JSON.stringify(got.value) === '{"n":42}', `got ${JSON.stringify(got.value)}`);
  }],
  ["notify-to-server", async (p) => {
    const before = await p.request<Notes>("notes");
    await p.notify("to-server", { hello: "server" });
    // A notification has no answer: poll `notes` (bounded) until the server has recorded it.
    let after = before;
    for (let i = 0; i < 500 && after.count === before.count; i++) {
      after = await p.request<Notes>("notes");
      if (after.count === before.count) await new Promise((r) => setTimeout(r, 10));
    }
    assert(after.count === before.count + 1, `notes count ${before.count} -> ${after.count}`);
    assert(after.last?.name === "to-server", `last note ${JSON.stringify(after.last)}`);
    assert(JSON.stringify(after.last?.value) === '{"hello":"server"}', "note value differs");
  }],
  ["call-back", async (p) => {
    const r = await p.request("call-back", { op: "upper", value: "called back" });
    assert(r === "CALLED BACK", `got ${JSON.stringify(r)}`);
  }],
  // Mixed kinds. Through this API a single result to a streaming request reads as one part,
  // and a streaming result to a buffer request is collected: either kind passes (the Go
  // reference cannot answer with the other kind); the catalogue judges the kind on the wire.
  ["stream-single-result", async (p) => {
    const parts = ["stream ", "to ", "single ", "ünïcode ✓"];
    const { writable, readable } = p.streamRequest("stream-concat");
    const writer = writable.getWriter();
    const writing = (async () => {
      for (const part of parts) await writer.write(enc.encode(part));
      await writer.close();
    })();
    const received: Uint8Array[] = [];
    for await (const part of readable as unknown as AsyncIterable<Uint8Array>) received.push(part);
    await writing;
    const got = dec.decode(concat(received));
    assert(got === parts.join(""), `got ${JSON.stringify(got)}`);
  }],
  ["single-stream-result", async (p) => {
    const parts = ["single ", "to ", "stream ", "ünïcode ✓"];
    const out = await p.bufferRequest("echo-parts", enc.encode(JSON.stringify({ parts })));
    assert(dec.decode(out) === parts.join(""), `got ${JSON.stringify(dec.decode(out))}`);
  }],
];

async function check(): Promise<void> {
  const url = flag("--url");
  // `--idle MS` runs only the opt-in `idle` check (unless --only says otherwise).
  const idleMs = flag("--idle") === undefined ? undefined : numberFlag("--idle", 0);
  const only = flag("--only")?.split(",") ?? (idleMs === undefined ? undefined : ["idle"]);
  const m = url ? /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(url) : null;
  const ws = url !== undefined && /^wss?:\/\/[^/]+\//.test(url);
  if (!m && !ws) {
    printError(`check needs --url tcp://HOST:PORT or ws://HOST:PORT/PATH (got ${url})`);
    exit(2);
  }
  const ctx: CheckContext = { pushed: [] };
  const handlers = new Handlers()
    .handle("upper", (s: string) => s.toUpperCase())
    .handleNotificationFallback((payload, n) => {
      ctx.pushed.push({
        name: n.name,
        value: payload.length ? JSON.parse(dec.decode(payload)) : null,
      });
    });
  // The WebSocket client sends Origin: http://HOST:PORT, which the Go server requires.
  const transport = ws
    ? await (await wsAdapter()).connectWebSocket(url!)
    : await (await adapter()).connect({ hostname: m![1], port: Number(m![2]) });
  const peer = new Peer(transport, { handlers });
  let failed = 0;
  const all: Array<[string, Check]> = idleMs === undefined ? checks : [...checks, [
    "idle",
    async (p) => {
      // Stay idle past Go's 30 s read timeout: our heartbeats must keep the connection open.
      await echo(p, enc.encode("before"));
      await new Promise((r) => setTimeout(r, idleMs));
      assert(p.isOpen, `the connection was closed while idle: ${p.isOpen}`);
      await echo(p, enc.encode("after"));
    },
  ]];
  for (const [id, fn] of all) {
    if (only && !only.includes(id)) continue;
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        fn(peer, ctx),
        new Promise((_, reject) => {
          const ms = id === "idle" ? (idleMs ?? 0) + 10_000 : 10_000;
          timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
        }),
      ]);
      print(JSON.stringify({ id, ok: true, ms: Math.round((performance.now() - t0) * 10) / 10 }));
    } catch (e) {
      failed++;
      const detail = e instanceof ConnectionClosedError && e.cause
        ? `${e.message} (${e.cause})`
        : String(e instanceof Error ? e.message : e);
      print(JSON.stringify({ id, ok: false, detail }));
    } finally {
      clearTimeout(timer);
    }
  }
  await peer.close({ timeoutMs: 1000 });
  exit(failed === 0 ? 0 : 1);
}

const command = args[0];
if (command === "serve") await serve();
else if (command === "check") await check();
else {
  printError(
    "usage: peer.ts serve --transport tcp|ws|stdio [--addr HOST:PORT] [options] | check --url URL",
  );
  exit(2);
}
