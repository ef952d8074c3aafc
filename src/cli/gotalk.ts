#!/usr/bin/env node
/**
 * The `gotalk` command: call an operation, serve the conformance operations, tap a connection,
 * check or benchmark an implementation, over TCP, TLS, WebSocket or a child process's stdio.
 * Running this module runs the command with the process's arguments; it exports nothing.
 *
 * ```sh
 * deno run -A jsr:@gotalk/gotalk/cli call tcp://127.0.0.1:1234 upper '"hello"'
 * deno install -A -g -n gotalk jsr:@gotalk/gotalk/cli
 * npx gotalk serve --tcp 1234
 * ```
 *
 * `gotalk --help` lists the subcommands; `gotalk COMMAND --help` explains each.
 *
 * @module
 */

import { run } from "./main.ts";

/** The arguments after the script, on every runtime. */
function args(): string[] {
  const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
  return g.Deno ? g.Deno.args : g.process!.argv.slice(2);
}

function exit(code: number): never {
  const g = globalThis as {
    Deno?: { exit(c: number): never };
    process?: { exit(c: number): never };
  };
  return g.Deno ? g.Deno.exit(code) : g.process!.exit(code);
}

exit(await run(args()));
