// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk serve`: not written yet.

/** The help text of `gotalk serve`. */
export const HELP = "gotalk serve: not available yet";

/** Runs `gotalk serve ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
