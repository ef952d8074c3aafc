// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk bench`: not written yet.

/** The help text of `gotalk bench`. */
export const HELP = "gotalk bench: not available yet";

/** Runs `gotalk bench ARGS`; resolves with the exit status. */
export function main(_argv: string[]): Promise<number> {
  console.error(HELP);
  return Promise.resolve(2);
}
