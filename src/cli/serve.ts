// `gotalk serve`: a server with the conformance peer's operations, for trying clients.

import { type Listener, Peer, Server } from "../../mod.ts";
import { parseArgs, type ParsedArgs, stringFlag } from "./_args.ts";
import { serveHandlers } from "./_ops.ts";
import { onSignals, writeErr, writeOut } from "./_print.ts";
import { runtimeKit } from "./_runtime.ts";
import { listenOn, parseTarget, type Target, UsageError } from "./_url.ts";

/** The help text of `gotalk serve`. */
export const HELP = `Usage: gotalk serve [--tcp ADDR] [--ws ADDR] [--stdio] [--quiet]

A server with the conformance peer's operations (conformance/README.md), for trying clients.
Prints one URL a line once it listens (on stderr with --stdio), and each notification it
receives on stderr. Without options it listens on --tcp 127.0.0.1:0 --ws 127.0.0.1:0 (free
ports). SIGINT or SIGTERM closes it; with --stdio alone, so does the end of stdin.

Options:
  --tcp ADDR   listen for TCP connections: HOST:PORT, :PORT, PORT or tcp://HOST:PORT
  --ws ADDR    listen for WebSocket connections at /gotalk/ (or ws://HOST:PORT/PATH)
  --stdio      serve one connection over this process's stdin and stdout
  --quiet      do not print notifications

Operations:
  echo          bytes -> the same bytes          upper         "text" -> "TEXT"
  fail          bytes -> an ErrorResult of them  sleep         {"ms":N,"value":V} -> V, N ms later
  stream-echo   streamed parts -> the same parts stream-concat streamed parts -> their concatenation
  echo-parts    {"parts":["a","b"]} -> streamed  notes         the notifications this connection sent
  notify-back   {"name":N,"value":V} -> true, and a notification N back
  call-back     {"op":OP,"value":V} -> the result of calling OP with V on the client

Examples:
  gotalk serve --tcp 1234 --ws 8080
  gotalk serve --tcp 127.0.0.1:0          # prints tcp://127.0.0.1:PORT
  gotalk call --spawn "gotalk serve --stdio" upper '"hi"'`;

const SPEC = { boolean: ["stdio", "quiet"], string: ["tcp", "ws"] } as const;

/** `HOST:PORT`, `:PORT`, `PORT` or a URL, as a target of `kind`. */
function address(text: string, kind: "tcp" | "ws"): Target {
  if (/^[a-z]+:\/\//.test(text)) {
    const t = parseTarget(text);
    if (t.kind !== kind) throw new UsageError(`--${kind} takes a ${kind}:// address, not ${text}`);
    return t;
  }
  const hostPort = /^\d+$/.test(text)
    ? `127.0.0.1:${text}`
    : text.startsWith(":")
    ? `127.0.0.1${text}`
    : text;
  if (!/^(?:[^:/]+|\[[^\]]+\]):\d+$/.test(hostPort)) {
    throw new UsageError(`--${kind} takes HOST:PORT, :PORT or PORT, not ${JSON.stringify(text)}`);
  }
  return parseTarget(kind === "tcp" ? `tcp://${hostPort}` : `ws://${hostPort}/gotalk/`);
}

function options(args: ParsedArgs): { tcp?: Target; ws?: Target; stdio: boolean } {
  if (args.positional.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(args.positional[0])}`);
  }
  const tcp = stringFlag(args, "tcp");
  const ws = stringFlag(args, "ws");
  const stdio = args.flags.stdio === true;
  if (tcp === undefined && ws === undefined && !stdio) {
    return { tcp: address("127.0.0.1:0", "tcp"), ws: address("127.0.0.1:0", "ws"), stdio };
  }
  return {
    tcp: tcp === undefined ? undefined : address(tcp, "tcp"),
    ws: ws === undefined ? undefined : address(ws, "ws"),
    stdio,
  };
}

/** Runs `gotalk serve ARGS`; resolves with the exit status once the server has closed. */
export async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(parseArgs(argv, SPEC));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    await writeErr(`gotalk serve: ${e.message}\n(gotalk serve --help for usage)\n`);
    return 2;
  }
  const quiet = argv.includes("--quiet");
  const handlers = serveHandlers((name, value) => {
    if (!quiet) void writeErr(`notification ${name} ${JSON.stringify(value)}\n`);
  });
  // With --stdio, stdout carries the protocol: the URLs go to stderr.
  const say = opts.stdio ? writeErr : writeOut;
  const closers: Array<() => Promise<void>> = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => stop = resolve);
  try {
    for (const target of [opts.tcp, opts.ws]) {
      if (target === undefined) continue;
      const listener: Listener & { url: string } = await listenOn(target);
      const server = new Server(listener, { handlers });
      closers.push(() => server.close({ timeoutMs: 1000 }));
      await say(`${listener.url}\n`);
    }
    if (opts.stdio) {
      const kit = await runtimeKit();
      if (kit.stdio === undefined) throw new UsageError(`--stdio is not available on ${kit.name}`);
      const peer = new Peer(kit.stdio(), { handlers });
      closers.push(() => peer.close({ timeoutMs: 1000 }));
      // The end of stdin closes a server that has nothing else to serve.
      void peer.closed.then(() => {
        if (opts.tcp === undefined && opts.ws === undefined) stop();
      });
    }
  } catch (e) {
    await Promise.allSettled(closers.map((c) => c()));
    const usage = e instanceof UsageError;
    await writeErr(`gotalk serve: ${e instanceof Error ? e.message : e}\n`);
    return usage ? 2 : 3;
  }
  onSignals(() => stop());
  await stopped;
  await Promise.allSettled(closers.map((c) => c()));
  return 0;
}
