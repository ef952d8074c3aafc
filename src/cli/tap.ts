// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk tap LISTEN TARGET`: a proxy that prints every frame both ways. The bytes are forwarded
// as they arrive; a copy is decoded for printing, so a tap never alters the conversation, even
// when what passes is not Gotalk.

import type { Transport } from "../peer/transport.ts";
import { dial, listenOn, parseTarget, type Target, UsageError } from "./_url.ts";
import { parseFlags } from "./_flags_tap.ts";
import { type Direction, FrameWatcher } from "./_tap_frames.ts";
import { onStop, useColour } from "./_tap_io.ts";
import { TapPrinter } from "./_tap_print.ts";
import { Recorder } from "./_tap_record.ts";

/** The help text of `gotalk tap`. */
export const HELP = `Usage: gotalk tap [--json] [--record FILE] [--once] LISTEN TARGET

A proxy that prints every frame in both directions: time, connection, direction (C→S client
to server, S→C server to client), the message type by name, id, op, header+payload sizes, a
JSON, text or hex preview of the payload, and for each result the round-trip time of its
request. The bytes are passed on unchanged, as they arrive; input that is not Gotalk is shown,
flagged with !!, and forwarded as it is.

LISTEN is tcp://HOST:PORT or ws://HOST:PORT/PATH (port 0 picks one; the address is printed on
stderr); TARGET is tcp://, tls://, ws:// or wss://. Any pair works: tcp↔tcp, ws↔ws, ws↔tcp.

Options:
  --json           one JSON object per line and frame instead of text
  --record FILE    also write the conversation to FILE, for gotalk replay FILE TARGET
  --once           serve one connection, then exit
  NO_COLOR=1       no colours (they are used only on a terminal)

Examples:
  gotalk tap tcp://127.0.0.1:4000 tcp://127.0.0.1:1234
  gotalk tap ws://127.0.0.1:8080/gotalk/ tcp://127.0.0.1:1234     # browsers to a TCP server
  gotalk tap --json --record session.jsonl tcp://:4000 ws://example.com/gotalk/
  gotalk replay session.jsonl tcp://127.0.0.1:1234`;

/** Runs `gotalk tap ARGS`; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  let listen: Target, target: Target, json: boolean, once: boolean, record: string | undefined;
  try {
    const p = parseFlags("gotalk tap", argv, {
      booleans: ["json", "once"],
      values: ["record"],
    });
    if (p.positional.length !== 2) throw new UsageError("gotalk tap needs LISTEN and TARGET");
    listen = parseTarget(p.positional[0]);
    target = parseTarget(p.positional[1]);
    if (target.kind === "spawn") throw new UsageError("gotalk tap needs a URL as TARGET");
    json = p.booleans.has("json");
    once = p.booleans.has("once");
    record = p.values.get("record");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${HELP}`);
    return 2;
  }
  let listener;
  try {
    listener = await listenOn(listen);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    console.error(`gotalk tap: cannot listen on ${listen.url}: ${message(e)}`);
    return 3;
  }
  const recorder = record
    ? new Recorder(record, { listen: listener.url, target: target.url })
    : undefined;
  const printer = new TapPrinter({
    json,
    colour: useColour("stdout"),
    out: (line) => console.log(line),
  });
  console.error(`gotalk tap: listening on ${listener.url}, forwarding to ${target.url}`);
  let stopped = false;
  onStop(() => {
    stopped = true;
    listener.close();
  });
  const live = new Set<Promise<void>>();
  let n = 0;
  try {
    for await (const down of listener) {
      const conn = ++n;
      const p = proxy(conn, down, target, printer, recorder).finally(() => live.delete(p));
      live.add(p);
      if (once) {
        await p;
        break;
      }
    }
  } finally {
    listener.close();
    if (!stopped) await Promise.all(live);
    recorder?.close();
  }
  return 0;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Proxies one connection until both directions have ended. */
async function proxy(
  conn: number,
  down: Transport,
  target: Target,
  printer: TapPrinter,
  recorder: Recorder | undefined,
): Promise<void> {
  let up: Transport;
  try {
    up = await dial(target, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    printer.note(conn, undefined, `cannot reach ${target.url}: ${message(e)}; closing`);
    down.close();
    return;
  }
  printer.open(conn, down.remoteAddr, target.url);
  recorder?.event(conn, "open");
  const pump = async (dir: Direction, from: Transport, to: Transport): Promise<void> => {
    const reader = from.readable.getReader();
    const writer = to.writable.getWriter();
    const watcher = new FrameWatcher();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const now = performance.now();
        const copy = value.slice();
        const wrote = writer.write(value);
        recorder?.data(conn, dir, copy);
        for (const ev of watcher.feed(copy)) printer.event(conn, dir, ev, now);
        await wrote;
      }
      recorder?.end(conn, dir);
      printer.end(conn, dir, watcher.partial);
      await writer.close();
    } catch (e) {
      printer.note(conn, dir, `connection error: ${message(e)}`);
      down.close();
      up.close();
    } finally {
      reader.releaseLock();
      writer.releaseLock();
    }
  };
  await Promise.all([pump("c2s", down, up), pump("s2c", up, down)]);
  down.close();
  up.close();
  recorder?.event(conn, "close");
  printer.close(conn);
}
