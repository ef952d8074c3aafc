// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk tap`: not written yet.

/** The help text of `gotalk tap`. */
export const HELP = "gotalk tap: not available yet";

/** Runs `gotalk tap ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
