/**
 * Helpers for the stdio tests: this runtime's adapter (with `stdio` and `spawn`), and how to
 * run a script or some code in a child on this runtime. Test-only.
 *
 * @module
 */

import process from "node:process";
import type { Listener, Transport } from "../peer/transport.ts";
import type { ConnectOptions, ListenOptions } from "./socket_options.ts";
import type { ChildTransport, SpawnOptions } from "./stdio_options.ts";
import { runtimeName } from "./_test_factories.ts";

/** What the stdio tests use of an adapter. */
export interface StdioAdapter {
  connect(options: ConnectOptions): Promise<Transport>;
  listen(options: ListenOptions): Promise<Listener>;
  stdio(): Transport;
  spawn(command: string, args: string[], options?: SpawnOptions): Promise<ChildTransport>;
}

/** This runtime's own adapter (imported dynamically). */
export async function stdioAdapter(): Promise<StdioAdapter> {
  const runtime = runtimeName();
  return runtime === "deno"
    ? await import("./deno.ts")
    : runtime === "bun"
    ? await import("./bun.ts")
    : await import("./node.ts");
}

/** Whether this runs as the Node build (compiled `.js`). */
const compiled = import.meta.url.endsWith(".js");

/** A file of this repository, as this runtime runs it (`.ts`, or `.js` in the Node build). */
export function scriptPath(relative: string): string {
  const url = new URL(compiled ? relative.replace(/\.ts$/, ".js") : relative, import.meta.url);
  return decodeURIComponent(url.pathname);
}

/**
 * The command and arguments that run, on this runtime, `["run", script, ...args]` (a script)
 * or `["eval", code]` (some code).
 */
export function childCommand(what: ["run", string, ...string[]] | ["eval", string]): [
  string,
  string[],
] {
  const runtime = runtimeName();
  const exec = runtime === "deno"
    ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath()
    : process.execPath;
  if (what[0] === "eval") {
    return [exec, runtime === "deno" ? ["eval", what[1]] : ["-e", what[1]]];
  }
  const [, script, ...args] = what;
  return [exec, runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args]];
}
