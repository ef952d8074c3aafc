// The `gotalk` command's input and output on every runtime (through `node:` modules, which Deno,
// Bun and Node all provide): stdout/stderr writes that finish before the process exits, TTY and
// colour detection, JSON formatting, stdin as a stream, and files. Internal to the command.

import process from "node:process";
import { readFile } from "node:fs/promises";

const enc = new TextEncoder();

function write(stream: NodeJS.WriteStream, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(typeof data === "string" ? enc.encode(data) : data, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Writes to stdout; resolves once written (so that exiting right after loses nothing). */
export function writeOut(data: string | Uint8Array): Promise<void> {
  return write(process.stdout, data);
}

/** Writes to stderr; resolves once written. */
export function writeErr(data: string | Uint8Array): Promise<void> {
  return write(process.stderr, data);
}

/** Whether stdout is a terminal. */
export function stdoutIsTty(): boolean {
  return process.stdout.isTTY === true;
}

/** Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty (https://no-color.org). */
export function useColor(): boolean {
  return stdoutIsTty() && !process.env.NO_COLOR;
}

/** `value` as JSON: indented on a terminal (`pretty`), one line otherwise. */
export function formatJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined);
}

/** This process's stdin as a byte stream. */
export function stdinStream(): ReadableStream<Uint8Array> {
  const it = (process.stdin as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await it.next();
      if (done) c.close();
      else c.enqueue(typeof value === "string" ? enc.encode(value) : new Uint8Array(value));
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** All of a byte stream. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A file's bytes. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}

/** Calls `fn` once on the first SIGINT or SIGTERM. */
export function onSignals(fn: () => void): void {
  let called = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (called) return;
      called = true;
      fn();
    });
  }
}

/** Sets an environment variable of this process. */
export function setEnv(name: string, value: string): void {
  process.env[name] = value;
}
