// `gotalk call`: one request (JSON, bytes or streamed) or one notification, its result printed.

import { Peer, RemoteError } from "../../mod.ts";
import { intFlag, parseArgs, type ParsedArgs, stringFlag } from "./_args.ts";
import {
  formatJson,
  readAll,
  readFileBytes,
  setEnv,
  stdinStream,
  stdoutIsTty,
  writeErr,
  writeOut,
} from "./_print.ts";
import { runtimeName } from "./_runtime.ts";
import {
  dial,
  type DialOptions,
  parseTarget,
  spawnTarget,
  type Target,
  UsageError,
} from "./_url.ts";

/** The help text of `gotalk call`. */
export const HELP = `Usage: gotalk call [OPTIONS] URL OP [VALUE | @FILE | -]
       gotalk call [OPTIONS] --spawn "CMD ARGS" OP [VALUE | @FILE | -]

Sends one request to OP (or, with --notify, a notification named OP) and prints the result.
URL is tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH or wss://HOST:PORT/PATH (a bare
HOST:PORT is TCP). VALUE is JSON text; @FILE reads it from a file and - from stdin; without
one the request has an empty payload.

Options:
  --buffer         send VALUE's bytes as they are; write the result's bytes to stdout as they are
  --stream         a streaming request: each line of VALUE (default: stdin) is one request part,
                   and each result part is printed on a line of its own as it arrives
  --chunks         with --stream: send the input as it is read, print the result parts' bytes
  --notify         send a notification instead of a request (nothing is printed)
  --timeout MS     give up after MS milliseconds, connecting included (exit status 3)
  --ca FILE        tls://: trust this PEM certificate besides the default roots
  --insecure       tls://, wss://: skip certificate verification (Node only: Deno and Bun
                   always verify; pass the server's certificate with --ca instead)
  --origin ORIGIN  ws://, wss://: the Origin header of the upgrade (default: the URL's own)
  --spawn CMD      talk to a child process over its stdin and stdout instead of a URL

JSON results are indented on a terminal and on one line otherwise.
Exit status: 0 ok, 1 an ErrorResult (its message on stderr), 2 usage, 3 a connection or
protocol failure (or --timeout).

Examples:
  gotalk call tcp://127.0.0.1:1234 upper '"hello"'
  gotalk call ws://127.0.0.1:8080/gotalk/ sleep '{"ms":100,"value":"late"}' --timeout 1000
  gotalk call --buffer tcp://127.0.0.1:1234 echo @photo.jpg > copy.jpg
  printf 'one\\ntwo\\n' | gotalk call --stream tcp://127.0.0.1:1234 stream-echo
  gotalk call --notify tcp://127.0.0.1:1234 greeting '{"from":"cli"}'
  gotalk call --spawn "gotalk serve --stdio" upper '"hi"'`;

const SPEC = {
  boolean: ["buffer", "stream", "chunks", "notify", "insecure"],
  string: ["timeout", "ca", "origin", "spawn"],
} as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What to call, from the command line. */
interface Call {
  target: Target;
  op: string;
  value: string | undefined;
  mode: "json" | "buffer" | "stream";
  chunks: boolean;
  notify: boolean;
  timeoutMs: number;
  dial: DialOptions;
}

/** Runs `gotalk call ARGS`; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  let signal: AbortSignal | undefined;
  try {
    const call = await parse(parseArgs(argv, SPEC));
    if (call.timeoutMs > 0) signal = AbortSignal.timeout(call.timeoutMs);
    return await run(call, signal);
  } catch (e) {
    if (e instanceof UsageError) {
      await writeErr(`gotalk call: ${e.message}\n(gotalk call --help for usage)\n`);
      return 2;
    }
    if (e instanceof RemoteError) {
      await writeErr(e.message.endsWith("\n") ? e.message : e.message + "\n");
      return 1;
    }
    const message = signal?.aborted
      ? `Timed out after ${intFlag(parseArgs(argv, SPEC), "timeout", 0)} ms`
      : describe(e);
    await writeErr(`gotalk call: ${message}\n`);
    return 3;
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : e.cause;
  return cause !== undefined && !e.message.includes(String(cause))
    ? `${e.message} (${cause})`
    : e.message;
}

async function parse(args: ParsedArgs): Promise<Call> {
  const spawn = stringFlag(args, "spawn");
  const pos = [...args.positional];
  const target = spawn !== undefined ? spawnTarget(spawn) : parseTarget(need(pos.shift(), "URL"));
  const op = need(pos.shift(), "OP");
  const value = pos.shift();
  if (pos.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(pos[0])}`);
  const f = args.flags;
  if (f.buffer && f.stream) throw new UsageError("--buffer and --stream do not go together");
  if (f.notify && f.stream) throw new UsageError("A notification cannot be streamed");
  if (f.chunks && !f.stream) throw new UsageError("--chunks goes with --stream");
  const dialOptions: DialOptions = {};
  const ca = stringFlag(args, "ca");
  if (ca !== undefined) {
    if (target.kind !== "tls") {
      throw new UsageError(
        "--ca applies to tls:// (for wss:// use NODE_EXTRA_CA_CERTS on Node and Bun, " +
          "DENO_CERT on Deno)",
      );
    }
    dialOptions.caCerts = [dec.decode(await readFileBytes(ca))];
  }
  if (f.insecure) {
    if (runtimeName() !== "node") {
      throw new UsageError(
        `--insecure is not available on ${runtimeName()}: its transports always verify ` +
          "certificates; pass the server's certificate with --ca FILE" +
          (runtimeName() === "deno"
            ? " (or run deno with --unsafely-ignore-certificate-errors)"
            : ""),
      );
    }
    // Node's TLS (and the `ws` client on it) honour this for connections that do not set
    // rejectUnauthorized themselves, which ours do not.
    setEnv("NODE_TLS_REJECT_UNAUTHORIZED", "0");
    dialOptions.insecure = true;
  }
  const origin = stringFlag(args, "origin");
  if (origin !== undefined) {
    if (target.kind !== "ws" && target.kind !== "wss") {
      throw new UsageError("--origin applies to ws:// and wss://");
    }
    dialOptions.origin = origin;
  }
  return {
    target,
    op,
    value,
    mode: f.buffer ? "buffer" : f.stream ? "stream" : "json",
    chunks: f.chunks === true,
    notify: f.notify === true,
    timeoutMs: intFlag(args, "timeout", 0),
    dial: dialOptions,
  };
}

function need(arg: string | undefined, what: string): string {
  if (arg === undefined || arg === "") throw new UsageError(`Missing ${what}`);
  return arg;
}

/** VALUE's bytes as a stream: `-` is stdin, `@FILE` a file, anything else the text itself. */
async function source(value: string | undefined, fallback: "stdin" | "empty") {
  if (value === "-" || (value === undefined && fallback === "stdin")) return stdinStream();
  const bytes = value === undefined
    ? new Uint8Array(0)
    : value.startsWith("@")
    ? await readFileBytes(value.slice(1))
    : enc.encode(value);
  return new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.length > 0) c.enqueue(bytes);
      c.close();
    },
  });
}

/** The request payload of a JSON or buffer call. */
async function payload(call: Call): Promise<Uint8Array> {
  const bytes = await readAll(await source(call.value, "empty"));
  if (call.mode === "json" && bytes.length > 0) {
    try {
      JSON.parse(dec.decode(bytes));
    } catch (e) {
      throw new UsageError(
        `VALUE is not JSON (${(e as Error).message}); quote a string as '"text"', or use --buffer`,
      );
    }
  }
  return bytes;
}

async function run(call: Call, signal: AbortSignal | undefined): Promise<number> {
  // Read the value first: a usage error then never opens a connection.
  const body = call.mode === "stream" ? undefined : await payload(call);
  const peer = new Peer(await dial(call.target, { ...call.dial, signal }));
  try {
    if (call.notify) {
      await peer.bufferNotify(call.op, body!);
    } else if (body !== undefined) {
      const result = await peer.bufferRequest(call.op, body, { signal });
      await printResult(call, result);
    } else {
      await streamCall(peer, call, signal);
    }
    await peer.close({ timeoutMs: 1000 });
    return 0;
  } finally {
    peer.abort();
  }
}

async function printResult(call: Call, result: Uint8Array): Promise<void> {
  if (call.mode === "buffer") return await writeOut(result);
  if (result.length === 0) return;
  const text = dec.decode(result);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON after all: shown as it came.
    return await writeOut(text.endsWith("\n") ? text : text + "\n");
  }
  await writeOut(formatJson(value, stdoutIsTty()) + "\n");
}

async function streamCall(peer: Peer, call: Call, signal: AbortSignal | undefined): Promise<void> {
  const input = await source(call.value, "stdin");
  const { writable, readable } = peer.streamRequest(call.op, { signal });
  const parts = call.chunks ? input : input.pipeThrough(lines());
  // Sending and printing run side by side: a result part is printed as soon as it arrives.
  const sending = parts.pipeTo(writable).catch((e) => e);
  for await (const part of readable as unknown as AsyncIterable<Uint8Array>) {
    if (call.chunks) await writeOut(part);
    else await writeOut(concat2(part, NEWLINE));
  }
  const err = await sending;
  if (err !== undefined) throw err;
}

const NEWLINE = new Uint8Array([10]);

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Splits bytes into lines (without their `\n` or `\r\n`); empty lines are dropped, since an empty part would end the request. */
function lines(): TransformStream<Uint8Array, Uint8Array> {
  let tail = new Uint8Array(0);
  const emit = (line: Uint8Array, c: TransformStreamDefaultController<Uint8Array>) => {
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    if (end > 0) c.enqueue(line.slice(0, end));
  };
  return new TransformStream({
    transform(chunk, c) {
      let data = tail.length > 0 ? concat2(tail, chunk) : chunk;
      for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10)) {
        emit(data.subarray(0, i), c);
        data = data.subarray(i + 1);
      }
      tail = data.slice();
    },
    flush(c) {
      emit(tail, c);
    },
  });
}
