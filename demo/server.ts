/**
 * The chat server, on whichever runtime supplies the listeners (`demo/main.ts` on Deno,
 * `demo/main_bun.ts` on Bun): one HTTP port with the page, the browser bundle at
 * `/gotalk/gotalk.js` and the Gotalk WebSocket endpoint at `/gotalk/`, and one TCP port for
 * terminal clients (`demo/chat_client.ts`). Both feed the same {@linkcode Chat}.
 *
 * Options: `--hostname` (127.0.0.1), `--port` (1235, the page; 0 picks one), `--tcp-port` (1236;
 * 0 picks one), `--ping-interval` (ms between latency pings, 5000; 0 turns them off), `--quiet`
 * (no event log). Once both ports listen it prints `Chat: http://HOST:PORT/` on a line of its own;
 * a port that is taken gets one line naming it (and `--port 0`) and exit status 1.
 *
 * Several nodes: `--nats URL` makes this server one node of the chat on that NATS server (its
 * rooms are topics across the nodes; `--node NAME` names it in the page), and `--nodes N` starts
 * a nats-server and N such servers (`demo/nodes.ts`).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Backplane, type Listener, Server } from "../mod.ts";
import { browserBundleRoute } from "../src/server/bundle_route.ts";
import type { WebSocketListener, WebSocketServeOptions } from "../src/transports/websocket/deno.ts";
import { buildBrowserBundle } from "../scripts/build_browser.ts";
import { Chat } from "./chat.ts";
import { runNodes } from "./nodes.ts";
import { identify } from "./identity.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** What a runtime supplies: its WebSocket server and its TCP listener. */
export interface DemoRuntime {
  /** Shown at start-up, e.g. `Deno 2.9.6`. */
  name: string;
  serveWebSocket(options: WebSocketServeOptions): Promise<WebSocketListener>;
  listen(options: { hostname: string; port: number }): Promise<Listener>;
}

/** The page's static files, read on each request (edit and reload). */
const STATIC: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};

async function staticRoute(request: Request): Promise<Response | undefined> {
  const entry = STATIC[new URL(request.url).pathname];
  if (entry === undefined || (request.method !== "GET" && request.method !== "HEAD")) {
    return undefined;
  }
  const body = await readFile(join(here, entry[0]));
  return new Response(request.method === "HEAD" ? null : body, {
    headers: { "content-type": entry[1], "cache-control": "no-cache" },
  });
}

function port(value: string | undefined, fallback: number, flag: string): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${flag} must be a port number from 0 to 65535, got ${value}`);
    process.exit(2);
  }
  return n;
}

/**
 * Runs `listen`; if it fails, prints one line (a taken port: which one, and `FLAG 0`) and exits
 * with status 1, instead of a stack trace.
 */
async function bind<T>(
  hostname: string,
  port: number,
  flag: string,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    if (e?.code === "EADDRINUSE" || e?.name === "AddrInUse") {
      console.error(
        `Port ${port} on ${hostname} is already in use (${flag} ${port}): stop what holds it, ` +
          `or pass ${flag} 0 to pick a free port`,
      );
    } else {
      console.error(`Cannot listen on ${hostname} port ${port} (${flag}): ${e?.message ?? error}`);
    }
    process.exit(1);
  }
}

/** Parses `args`, starts both servers, and serves until SIGINT or SIGTERM. */
export async function runDemo(runtime: DemoRuntime, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "1235" },
      "tcp-port": { type: "string", default: "1236" },
      "ping-interval": { type: "string", default: "5000" },
      quiet: { type: "boolean", default: false },
      nats: { type: "string" },
      nodes: { type: "string" },
      node: { type: "string" },
    },
  });
  const hostname = values.hostname;
  const httpPort = port(values.port, 1235, "--port");
  const tcpPort = port(values["tcp-port"], 1236, "--tcp-port");
  const pingIntervalMs = Number(values["ping-interval"]);
  if (values.nodes !== undefined) {
    const nodes = Number(values.nodes);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
      console.error(`--nodes takes a number from 1 to 16, got ${values.nodes}`);
      process.exit(2);
    }
    const rest = ["--hostname", hostname, "--ping-interval", String(pingIntervalMs)];
    if (values.quiet) rest.push("--quiet");
    return await runNodes(nodes, ownCommand(), rest, { http: httpPort, tcp: tcpPort });
  }
  const backplane = values.nats === undefined ? undefined : await connectNats(values.nats);

  const t0 = performance.now();
  const bundle = await buildBrowserBundle();
  const buildMs = Math.round(performance.now() - t0);

  const bundleRoute = browserBundleRoute(bundle.bytes);
  const ws = await bind(hostname, httpPort, "--port", () =>
    runtime.serveWebSocket({
      hostname,
      port: httpPort,
      routes: async (request) => (await bundleRoute(request)) ?? await staticRoute(request),
    }));
  const tcp = await bind(
    hostname,
    tcpPort,
    "--tcp-port",
    () => runtime.listen({ hostname, port: tcpPort }),
  );
  const log = values.quiet ? undefined : (line: string) => console.log(`${time()} ${line}`);
  const node = backplane === undefined ? "" : `node ${values.node ?? "?"} on NATS, `;
  const server = `${runtime.name}, ${node}terminals on TCP port ${tcp.addr.port}`;
  const chat = new Chat({ pingIntervalMs, log, server, backplane: backplane?.backplane });
  await chat.start();
  const servers = [
    new Server(ws, {
      handlers: chat.handlers,
      onConnect: identify, // the name comes from the connect URL or cookie, checked here
      onPeer: (peer) => chat.attach(peer, "ws"),
    }),
    new Server(tcp, { handlers: chat.handlers, onPeer: (peer) => chat.attach(peer, "tcp") }),
  ];

  const shown = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  const host = shown.includes(":") ? `[${shown}]` : shown;
  console.log(`gotalk chat demo on ${runtime.name}`);
  console.log(
    `Bundle: /gotalk/gotalk.js, ${bundle.bytes.byteLength} bytes (built in ${buildMs} ms)`,
  );
  console.log(
    `TCP: ${host}:${tcp.addr.port} (terminal client: node_modules/.bin/deno run -A ` +
      `demo/chat_client.ts --port ${tcp.addr.port} --room general --name bob)`,
  );
  console.log(`Chat: http://${host}:${ws.addr.port}/`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("Shutting down");
    const deadline = setTimeout(() => process.exit(0), 3000);
    await Promise.all(servers.map((s) => s.close({ timeoutMs: 1000 })));
    await chat.close();
    await backplane?.close();
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/** How to start this server again on this runtime (a node of `--nodes`). */
function ownCommand(): string[] {
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  if (deno !== undefined) return [deno.execPath(), "run", "-A", fileURLToPath(deno.mainModule)];
  return [process.execPath, process.argv[1]];
}

/** Connects to NATS (loaded only then), or prints why not and exits with status 1. */
async function connectNats(
  url: string,
): Promise<{ backplane: Backplane; close(): Promise<void> }> {
  const [{ connect }, { NatsBackplane }] = await Promise.all([
    import("@nats-io/transport-node"),
    import("../src/nats/mod.ts"),
  ]);
  try {
    const nc = await connect({ servers: url, name: "gotalk-chat-demo" });
    return { backplane: new NatsBackplane(nc), close: () => nc.drain() };
  } catch (error) {
    console.error(`Cannot connect to NATS at ${url}: ${(error as Error)?.message ?? error}`);
    process.exit(1);
  }
}

function time(): string {
  return new Date().toTimeString().slice(0, 8);
}
