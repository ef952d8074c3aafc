// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk replay`: not written yet.

/** The help text of `gotalk replay`. */
export const HELP = "gotalk replay: not available yet";

/** Runs `gotalk replay ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
