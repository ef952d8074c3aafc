// The client checks of `gotalk check --spawn CMD`: `CMD check --url URL` run against a server,
// its JSON lines turned into results (conformance/README.md, "Checks every check runs").
// Internal to the command.

import { spawn } from "node:child_process";

/** One client check's outcome. */
export interface ClientCheck {
  id: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** The bound on a whole `check` run, in ms (each check is bounded to 10 s by the contract). */
const CHECK_RUN_TIMEOUT_MS = 300_000;

/**
 * Runs `cmd check --url url`; resolves with each check, plus one failed `client/run` entry if
 * it exited non-zero without saying why, printed nothing, or did not finish in time.
 */
export function runClientChecks(cmd: string[], url: string): Promise<ClientCheck[]> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], [...cmd.slice(1), "check", "--url", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => void (out += s));
    child.stderr!.on("data", (s: string) => void (err = (err + s).slice(-4096)));
    const timer = setTimeout(() => child.kill("SIGKILL"), CHECK_RUN_TIMEOUT_MS);
    const finish = (code: number | null, error?: string): void => {
      clearTimeout(timer);
      const checks: ClientCheck[] = [];
      for (const line of out.split("\n")) {
        if (!line.trim().startsWith("{")) continue;
        try {
          const r = JSON.parse(line) as { id: string; ok: boolean; detail?: string; ms?: number };
          checks.push({ id: r.id, ok: r.ok === true, detail: r.detail ?? "", ms: r.ms ?? 0 });
        } catch {
          // not a result line
        }
      }
      const tail = err.trim().split("\n").slice(-3).join(" / ");
      if (error !== undefined || checks.length === 0 || (code !== 0 && checks.every((c) => c.ok))) {
        checks.push({
          id: "run",
          ok: false,
          detail: error ?? `check exited ${code} with ${checks.length} results (stderr: ${tail})`,
          ms: 0,
        });
      }
      resolve(checks);
    };
    child.on("error", (e) => finish(null, `cannot run ${cmd[0]}: ${e.message}`));
    child.on("close", (code) => finish(code));
  });
}
