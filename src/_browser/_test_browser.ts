/**
 * Helpers of the browser tests in this folder: headless Chromium (playwright-core,
 * `/usr/bin/chromium` or `$CHROMIUM`) launched with a fresh profile, pages whose errors fail the
 * test, child processes whose output can be waited for, and a bounded wait. Every wait is
 * bounded; servers listen on port 0 and print their ports.
 *
 * The tests run only in the `browser` step of `scripts/test.mjs` (which installs Chromium first
 * when it is missing): `node_modules/.bin/deno test -A src/_browser/`. The Deno, Bun and Node
 * steps leave this folder out.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** The repository's root directory. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The path of an npm binary (`deno`, `bun`) in `node_modules/.bin`. */
export const bin = (name: string): string => join(root, "node_modules", ".bin", name);

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

/** Test options: browsers and child processes outlive a test's ops and resources. */
export const TEST = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

/** Rejects when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Launches Chromium with these flags and a fresh profile (Playwright's `launch`
 * creates a new temporary `--user-data-dir` each time and deletes it on close).
 */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  }
  return await within(
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 }),
    40_000,
    "Chromium launch",
  );
}

/**
 * A page whose uncaught errors and console errors (but those matching `expected`) are collected,
 * to fail the test.
 */
export async function newPage(
  context: BrowserContext,
  errors: string[],
  expected?: RegExp,
): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error" || expected?.test(m.text())) return;
    errors.push(`console: ${m.text()} at ${m.location().url}`);
  });
  return page;
}

/** A child process whose output lines are collected and can be waited for. */
export class Proc {
  readonly child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(
    cmd: string,
    args: string[],
    stdin = false,
    options: { cwd?: string; env?: Record<string, string> } = {},
  ) {
    this.child = new Deno.Command(cmd, {
      args,
      cwd: options.cwd ?? root,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
    }).spawn();
    this.#stdin = stdin ? this.child.stdin.getWriter() : undefined;
    this.status = this.child.status;
    void this.#read(this.child.stdout);
    void this.#read(this.child.stderr);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let i;
      while ((i = buffered.indexOf("\n")) >= 0) {
        this.#lines.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
      }
      for (const wake of this.#waiters) wake();
    }
    if (buffered) this.#lines.push(buffered);
    for (const wake of this.#waiters) wake();
  }

  get output(): string {
    return this.#lines.join("\n");
  }

  /** Resolves with the first match of `pattern` in the output, waiting up to `ms`. */
  waitFor(pattern: RegExp, ms: number, what = String(pattern)): Promise<RegExpMatchArray> {
    return within(
      new Promise((resolve) => {
        const check = () => {
          const m = this.output.match(pattern);
          if (m) {
            this.#waiters.delete(check);
            resolve(m);
          }
        };
        this.#waiters.add(check);
        check();
      }),
      ms,
      `${what} (output so far:\n${this.output}\n)`,
    );
  }

  async write(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  async endInput(): Promise<void> {
    await this.#stdin!.close();
  }

  /** Sends `signal`, and waits (bounded) for the exit; SIGKILL if it does not come. */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 5000): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
    try {
      return await within(this.status, ms, `exit after ${signal}`);
    } catch (error) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await within(this.status, 5000, "exit after SIGKILL");
      throw error;
    }
  }
}
