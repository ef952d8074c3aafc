// deno-lint-ignore-file no-console -- a command line tool prints
// The `gotalk` command: `gotalk SUBCOMMAND [ARGS]`, on Deno, Bun and Node.
//
// Exit status: 0 ok, 1 an ErrorResult (or, for check, a FAILED case), 2 usage, 3 a connection
// or protocol failure. Each subcommand is a module with `HELP` and `main(argv)`.

/** A subcommand: its help text and what runs it. */
interface Command {
  readonly summary: string;
  load(): Promise<{ HELP: string; main(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  call: {
    summary: "send one request or notification and print the result",
    load: () => import("./call.ts"),
  },
  tap: { summary: "a proxy that prints every frame both ways", load: () => import("./tap.ts") },
  replay: {
    summary: "replay a recorded client conversation against a server",
    load: () => import("./replay.ts"),
  },
  check: {
    summary: "run the conformance catalogue against an implementation",
    load: () => import("./check.ts"),
  },
  bench: {
    summary: "pipelined load against a server: requests/s and latency",
    load: () => import("./bench.ts"),
  },
  serve: {
    summary: "a server with the conformance peer's operations, for trying clients",
    load: () => import("./serve.ts"),
  },
};

/** The top-level help. */
export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    "Usage: gotalk COMMAND [ARGS]   (gotalk COMMAND --help for each)",
    "",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Targets: tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH, wss://HOST:PORT/PATH, or",
    '--spawn "CMD ARGS" for a child process\'s stdin and stdout.',
    "Exit status: 0 ok, 1 an ErrorResult (check: a FAILED case), 2 usage, 3 a connection or",
    "protocol failure.",
    "",
    "Examples:",
    "  gotalk serve --tcp 1234 --ws 8080",
    `  gotalk call tcp://127.0.0.1:1234 upper '"hello"'`,
    "  gotalk call --help",
  ].join("\n");
}

/** Runs the command line `argv` (without the program name); resolves with the exit status. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`gotalk: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(mod.HELP);
    return 0;
  }
  return await mod.main(rest);
}
