// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk check`: not written yet.

/** The help text of `gotalk check`. */
export const HELP = "gotalk check: not available yet";

/** Runs `gotalk check ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
