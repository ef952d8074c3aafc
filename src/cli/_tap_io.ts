// The bits of the runtime `gotalk tap`, `replay`, `check` and `bench` use besides transports:
// the terminal, the environment, signals. Files go through `node:fs`, which all three runtimes
// have. Internal to the command.

type Stream = "stdout" | "stderr";

interface DenoLike {
  stdout: { isTerminal(): boolean; writeSync(b: Uint8Array): number };
  stderr: { isTerminal(): boolean; writeSync(b: Uint8Array): number };
  env: { get(name: string): string | undefined };
  addSignalListener(signal: string, fn: () => void): void;
}

interface ProcessLike {
  stdout: { isTTY?: boolean; write(s: string): boolean };
  stderr: { isTTY?: boolean; write(s: string): boolean };
  env: Record<string, string | undefined>;
  on(signal: string, fn: () => void): void;
}

const g = globalThis as { Deno?: DenoLike; process?: ProcessLike };
const enc = new TextEncoder();

/** Writes `text` as is (no newline added). */
export function write(stream: Stream, text: string): void {
  if (g.Deno) {
    const bytes = enc.encode(text);
    for (let off = 0; off < bytes.length;) off += g.Deno[stream].writeSync(bytes.subarray(off));
  } else {
    g.process![stream].write(text);
  }
}

/** Whether `stream` is a terminal. */
export function isTerminal(stream: Stream): boolean {
  return g.Deno ? g.Deno[stream].isTerminal() : g.process![stream].isTTY === true;
}

/** An environment variable. */
export function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process!.env[name];
}

/** Whether to colour `stream`: a terminal, and `NO_COLOR` unset or empty (no-color.org). */
export function useColour(stream: Stream): boolean {
  return isTerminal(stream) && !env("NO_COLOR");
}

/** Calls `fn` on SIGINT or SIGTERM. */
export function onStop(fn: () => void): void {
  for (const s of ["SIGINT", "SIGTERM"]) {
    if (g.Deno) g.Deno.addSignalListener(s, fn);
    else g.process!.on(s, fn);
  }
}

/** ANSI colours, or none. */
export function palette(
  on: boolean,
): Record<"dim" | "bold" | "red" | "green" | "cyan" | "magenta" | "yellow", (s: string) => string> {
  const c = (code: number) => (s: string): string => on ? `\x1b[${code}m${s}\x1b[0m` : s;
  return {
    dim: c(2),
    bold: c(1),
    red: c(31),
    green: c(32),
    cyan: c(36),
    magenta: c(35),
    yellow: c(33),
  };
}
