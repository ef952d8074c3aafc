// Where the `gotalk` command connects or listens: `tcp://HOST:PORT`, `tls://HOST:PORT`,
// `ws://HOST:PORT/PATH`, `wss://…`, or a child process (`--spawn "CMD ARGS"`). Internal.

import type { Listener, Transport } from "../peer/transport.ts";
import { runtimeKit } from "./_runtime.ts";

/** How to reach a peer. */
export type Target =
  | { kind: "tcp" | "tls"; hostname: string; port: number; url: string }
  | { kind: "ws" | "wss"; url: string }
  | { kind: "spawn"; command: string; args: string[]; url: string };

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** PEM certificates to trust besides the default roots (`--ca`). */
  caCerts?: string[];
  /** Skip certificate verification (`--insecure`): TLS and WSS only. */
  insecure?: boolean;
  /** The Origin header of a WebSocket upgrade (`--origin`). */
  origin?: string;
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/** A usage error: the command prints it and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses a target URL (`tcp://`, `tls://`, `ws://`, `wss://`; a bare `HOST:PORT` is TCP).
 *
 * @throws {UsageError} For anything else.
 */
export function parseTarget(text: string): Target {
  const bare = /^[^/:]+:\d+$/.test(text) || /^\[[^\]]+\]:\d+$/.test(text);
  const url = bare ? `tcp://${text}` : text;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(
      `Not a URL: ${JSON.stringify(text)} (use tcp://, tls://, ws:// or wss://)`,
    );
  }
  const kind = u.protocol.slice(0, -1);
  if (kind === "ws" || kind === "wss") return { kind, url: u.href };
  if (kind === "tcp" || kind === "tls") {
    const port = Number(u.port);
    if (!u.port || !Number.isInteger(port)) {
      throw new UsageError(`${JSON.stringify(text)} needs a port, e.g. ${kind}://127.0.0.1:1234`);
    }
    const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
    return { kind, hostname, port, url: `${kind}://${u.host}` };
  }
  throw new UsageError(`Unsupported scheme in ${JSON.stringify(text)} (use tcp, tls, ws or wss)`);
}

/** A spawn target from `--spawn "CMD ARGS"` (split on spaces; quotes group words). */
export function spawnTarget(commandLine: string): Target {
  const words = [...commandLine.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) =>
    m[1] ?? m[2] ?? m[3]
  );
  if (words.length === 0) throw new UsageError("--spawn needs a command");
  return { kind: "spawn", command: words[0], args: words.slice(1), url: `spawn:${commandLine}` };
}

/** Connects to `target` with this runtime's transports. */
export async function dial(target: Target, options: DialOptions = {}): Promise<Transport> {
  const kit = await runtimeKit();
  switch (target.kind) {
    case "tcp":
      return kit.connect({ hostname: target.hostname, port: target.port, signal: options.signal });
    case "tls":
      return kit.connect({
        hostname: target.hostname,
        port: target.port,
        signal: options.signal,
        tls: { caCerts: options.caCerts },
      });
    case "ws":
    case "wss":
      return kit.connectWebSocket(target.url, {
        signal: options.signal,
        ...(options.origin ? { origin: options.origin } : {}),
      });
    case "spawn":
      if (kit.spawn === undefined) throw new UsageError(`--spawn is not available on ${kit.name}`);
      return kit.spawn(target.command, target.args);
  }
}

/** Listens on `target` (`tcp://HOST:PORT` or `ws://HOST:PORT/PATH`); port 0 picks one. */
export async function listenOn(target: Target): Promise<Listener & { readonly url: string }> {
  const kit = await runtimeKit();
  if (target.kind === "tcp") {
    const l = await kit.listen({ hostname: target.hostname, port: target.port });
    const host = l.addr.hostname.includes(":") ? `[${l.addr.hostname}]` : l.addr.hostname;
    return Object.assign(l, { url: `tcp://${host}:${l.addr.port}` });
  }
  if (target.kind === "ws") {
    const u = new URL(target.url);
    return kit.serveWebSocket(
      {
        hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(u.port || 80),
        path: u.pathname === "/" ? undefined : u.pathname,
      } as Parameters<typeof kit.serveWebSocket>[0],
    );
  }
  throw new UsageError(`Cannot listen on ${target.url} (use tcp:// or ws://)`);
}
