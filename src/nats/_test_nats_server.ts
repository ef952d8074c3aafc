/**
 * A real nats-server for the tests: started on a free loopback port, stopped (or killed, or
 * restarted on the same port) by the test. Test-only.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** Where nats-server is (Debian's package; the test command installs it when missing). */
export const NATS_SERVER = process.env.NATS_SERVER ?? "/usr/sbin/nats-server";

/** Every child a test started and has not stopped: killed when the test process exits. */
const children = new Set<ChildProcess>();
let exitHook = false;

/** Registers `child` to be killed if the test process exits first (a failed test). */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const c of children) if (c.pid !== undefined) process.kill(c.pid, "SIGKILL");
  });
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options for {@linkcode NatsServer.start}. */
export interface NatsServerOptions {
  /** The server's `max_payload`, in bytes (default: nats-server's 1 MiB). */
  maxPayload?: number;
}

/** A nats-server child process on 127.0.0.1. */
export class NatsServer {
  readonly port: number;
  readonly #args: string[];
  readonly #dir: string;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();

  private constructor(port: number, options: NatsServerOptions) {
    this.port = port;
    this.#dir = mkdtempSync(join(tmpdir(), "gotalk-nats-"));
    this.#args = ["-a", "127.0.0.1", "-p", String(port)];
    if (options.maxPayload !== undefined) {
      const conf = join(this.#dir, "nats.conf");
      writeFileSync(conf, `max_payload: ${options.maxPayload}\n`);
      this.#args.push("-c", conf);
    }
  }

  /** Starts a server on a free port; resolves once it accepts clients. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), options);
    await server.#spawn();
    return server;
  }

  /** `127.0.0.1:PORT`. */
  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the process (again, on the same port) and waits for "Server is ready". */
  async #spawn(): Promise<void> {
    const child = spawn(NATS_SERVER, this.#args, { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    killOnExit(child);
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => done(new Error(`nats-server did not start:\n${log}`)), 10_000);
      const done = (error?: Error) => {
        clearTimeout(guard);
        child.stderr?.removeListener("data", onData);
        child.removeListener("error", onError);
        child.removeListener("exit", onExit);
        // Keep draining its log, so that the pipe never fills.
        child.stderr?.resume();
        error ? reject(error) : resolve();
      };
      const onData = (chunk: Uint8Array) => {
        log += new TextDecoder().decode(chunk);
        if (log.includes("Server is ready")) done();
      };
      const onError = (e: Error) =>
        done(new Error(`Cannot run ${NATS_SERVER} (apt-get install nats-server): ${e.message}`));
      const onExit = () => done(new Error(`nats-server exited:\n${log}`));
      child.stderr?.on("data", onData);
      child.once("error", onError);
      child.once("exit", onExit);
    });
  }

  /** Stops the process (SIGKILL: no goodbye to the clients) and waits for it to exit. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    this.#child = null;
    await this.#exited;
  }

  /** Kills the server and starts it again on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Stops the server for good and removes its files. */
  async stop(): Promise<void> {
    this.#child?.kill("SIGTERM");
    this.#child = null;
    await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
