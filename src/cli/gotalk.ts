// The `gotalk` command's entry point on every runtime (`deno run -A src/cli/gotalk.ts`,
// `bun src/cli/gotalk.ts`, the npm package's `bin`).

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
