// Peer benchmarks: `deno bench bench/peer_bench.ts`. They measure the session's own cost per
// request (decode, dispatch, handler, encode, coalesced write), without sockets: a server peer
// is fed request frames through an in-memory transport, and client and server peers talk over
// a pipe. Each group has a baseline so that regressions show as ratios.
import { Handlers } from "../src/peer/handlers.ts";
import { Peer } from "../src/peer/peer.ts";
import type { Transport } from "../src/peer/transport.ts";
import { encodeMessage } from "../src/protocol/mod.ts";
import { pipePair } from "../src/transports/pipe.ts";

/** A transport whose input the bench pushes and whose output it counts. */
class BenchTransport implements Transport {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #written = 0;
  #want = 0;
  #wake: (() => void) | undefined;

  constructor() {
    this.readable = new ReadableStream({ start: (c) => void (this.#controller = c) });
    this.writable = new WritableStream({
      write: (chunk) => {
        this.#written += chunk.length;
        if (this.#wake && this.#written >= this.#want) {
          const wake = this.#wake;
          this.#wake = undefined;
          wake();
        }
      },
    });
  }

  /** Pushes `chunk` and resolves once `bytes` more bytes were written in answer. */
  roundTrip(chunk: Uint8Array, bytes: number): Promise<void> {
    this.#want = this.#written + bytes;
    const done = new Promise<void>((resolve) => this.#wake = resolve);
    this.#controller.enqueue(chunk);
    return done;
  }

  close(): void {}
}

function requests(n: number, op: string, size: number, payload = new Uint8Array(size)): Uint8Array {
  const one = encodeMessage({ type: "r", id: 0x61616161, name: op, payload });
  const out = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) out.set(one, i * one.length);
  return out;
}

const handlers = new Handlers()
  .handleBuffer("echo", (p) => p)
  .handleBuffer("echo-async", (p) => Promise.resolve(p))
  .handle("echo-json", (v: unknown) => v);
const transport = new BenchTransport();
const server = new Peer(transport, { handlers, heartbeatIntervalMs: 0, handshakeTimeoutMs: 0 });
await transport.roundTrip(new TextEncoder().encode("01"), 0);

const one = requests(1, "echo", 16);
const batch64 = requests(64, "echo", 16);
const batch64Async = requests(64, "echo-async", 16);
const json16 = new TextEncoder().encode('"0123456789abc"');
const batch64Json = requests(64, "echo-json", 16, json16);
const batch16Big = requests(16, "echo", 64 * 1024);
/** A result frame: `R`, id, size, payload. */
const result = (size: number) => 13 + size;

Deno.bench({
  name: "server: 64 x 16 B buffer requests in one chunk",
  group: "server",
  baseline: true,
  async fn() {
    await transport.roundTrip(batch64, 64 * result(16));
  },
});
Deno.bench({
  name: "server: 1 x 16 B buffer request",
  group: "server",
  async fn() {
    await transport.roundTrip(one, result(16));
  },
});
Deno.bench({
  name: "server: 64 x 16 B requests, async handler",
  group: "server",
  async fn() {
    await transport.roundTrip(batch64Async, 64 * result(16));
  },
});
Deno.bench({
  name: "server: 64 x 16 B requests, JSON handler",
  group: "server",
  async fn() {
    await transport.roundTrip(batch64Json, 64 * result(json16.length));
  },
});
Deno.bench({
  name: "server: 16 x 64 KiB buffer requests in one chunk",
  group: "server",
  async fn() {
    await transport.roundTrip(batch16Big, 16 * result(64 * 1024));
  },
});

const [a, b] = pipePair({ highWaterMark: 1024 * 1024 });
const pipeServer = new Peer(a, { handlers, heartbeatIntervalMs: 0 });
const pipeClient = new Peer(b, { heartbeatIntervalMs: 0 });
const small = new Uint8Array(16);

Deno.bench({
  name: "client and server over a pipe: 64 x 16 B requests in flight",
  group: "pipe",
  baseline: true,
  async fn() {
    const all: Promise<Uint8Array>[] = [];
    for (let i = 0; i < 64; i++) all.push(pipeClient.bufferRequest("echo", small));
    await Promise.all(all);
  },
});
Deno.bench({
  name: "client and server over a pipe: 1 x 16 B request",
  group: "pipe",
  async fn() {
    await pipeClient.bufferRequest("echo", small);
  },
});

// What telemetry, middleware and interceptors cost: the same load with and without them. A
// listener that only counts, a middleware and an interceptor that only pass the call on.
let events = 0;
const onRequestEvent = () => void events++;
const passThrough = new Handlers(handlers).use((_ctx, next) => next());

async function observedServer(options: Partial<ConstructorParameters<typeof Peer>[1]>) {
  const t = new BenchTransport();
  const peer = new Peer(t, { handlers, heartbeatIntervalMs: 0, handshakeTimeoutMs: 0, ...options });
  await t.roundTrip(new TextEncoder().encode("01"), 0);
  return { t, peer };
}
const plain = await observedServer({});
const listened = await observedServer({ onRequestEvent });
const middled = await observedServer({ handlers: passThrough });

Deno.bench({
  name: "observed server: 64 x 16 B buffer requests, nothing attached",
  group: "observed-server",
  baseline: true,
  async fn() {
    await plain.t.roundTrip(batch64, 64 * result(16));
  },
});
Deno.bench({
  name: "observed server: 64 x 16 B buffer requests, an onRequestEvent listener",
  group: "observed-server",
  async fn() {
    await listened.t.roundTrip(batch64, 64 * result(16));
  },
});
Deno.bench({
  name: "observed server: 64 x 16 B buffer requests, a pass-through middleware",
  group: "observed-server",
  async fn() {
    await middled.t.roundTrip(batch64, 64 * result(16));
  },
});

function observedPipe(server: Record<string, unknown>, client: Record<string, unknown>) {
  const [x, y] = pipePair({ highWaterMark: 1024 * 1024 });
  return [
    new Peer(x, { handlers, heartbeatIntervalMs: 0, ...server }),
    new Peer(y, { heartbeatIntervalMs: 0, ...client }),
  ];
}
const pipes = {
  plain: observedPipe({}, {}),
  listened: observedPipe({ onRequestEvent }, { onRequestEvent }),
  intercepted: observedPipe({}, { interceptors: [(_c: unknown, next: () => unknown) => next()] }),
};
async function load(client: Peer): Promise<void> {
  const all: Promise<Uint8Array>[] = [];
  for (let i = 0; i < 64; i++) all.push(client.bufferRequest("echo", small));
  await Promise.all(all);
}
Deno.bench({
  name: "observed pipe: 64 x 16 B requests in flight, nothing attached",
  group: "observed-pipe",
  baseline: true,
  fn: () => load(pipes.plain[1]),
});
Deno.bench({
  name: "observed pipe: 64 x 16 B requests in flight, onRequestEvent listeners on both ends",
  group: "observed-pipe",
  fn: () => load(pipes.listened[1]),
});
Deno.bench({
  name: "observed pipe: 64 x 16 B requests in flight, a pass-through interceptor",
  group: "observed-pipe",
  fn: () => load(pipes.intercepted[1]),
});

globalThis.addEventListener("unload", () => {
  server.abort();
  pipeServer.abort();
  pipeClient.abort();
  for (const p of [plain, listened, middled]) p.peer.abort();
  for (const pair of Object.values(pipes)) for (const p of pair) p.abort();
  if (events === 0) throw new Error("The listener saw no events");
});
