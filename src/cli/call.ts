// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk call`: not written yet.

/** The help text of `gotalk call`. */
export const HELP = "gotalk call: not available yet";

/** Runs `gotalk call ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
