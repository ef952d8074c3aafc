/**
 * Runs one catalogue case against a server URL (TCP or WebSocket: the steps are the same, and
 * the WebSocket-only steps need a `ws:` URL): interprets its steps over {@linkcode RawConn}s,
 * judges `oneOf` outcomes by rewinding the received bytes, and finishes with the "server
 * survived" check (a new connection answers echo). What a message must look like is judged in
 * `_match.ts`; plain HTTP requests go through `raw/http.ts`.
 *
 * @module
 */

import type { Message } from "../src/protocol/mod.ts";
import { describePattern, describeStep, equalBytes, mismatch, wsMismatch } from "./_match.ts";
import { RawConn, ReadError, type Received } from "./raw/conn.ts";
import { describeMessage, preview } from "./raw/describe.ts";
import { httpGet } from "./raw/http.ts";
import type { DialOptions } from "./raw/transport.ts";
import { UpgradeRefused } from "./raw/ws_client.ts";
import {
  type Captures,
  type Case,
  cat,
  type Data,
  idNum,
  type MessagePattern,
  req,
  type Step,
  type Verdict,
} from "./catalogue/mod.ts";

/** Control over a server the driver started for one case (`ownServer` cases). */
export interface ServerControl {
  /** Sends SIGTERM. */
  sigterm(): void;
  /** Resolves with the exit code (null if killed by a signal), or `undefined` on timeout. */
  waitExit(timeoutMs: number): Promise<number | null | undefined>;
}

/** One case's result. */
export interface CaseResult {
  id: string;
  verdict: Verdict;
  detail: string;
  ms: number;
}

/** The default bound on one expectation, in ms. */
const DEFAULT_TIMEOUT_MS = 3000;
/** The bound on a whole case, in ms (every step is bounded; this is a backstop). */
const CASE_TIMEOUT_MS = 30000;

class StepFailure extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** The state of one running case. */
class Run {
  readonly conns = new Map<string, RawConn>();
  readonly lastSend = new Map<string, number>();
  readonly captures: Captures = {};
  readonly nonStrict: string[] = [];
  readonly unsupported: string[] = [];
  readonly okNotes: string[] = [];

  constructor(readonly url: string, readonly server: ServerControl | undefined) {}

  conn(name = "main"): RawConn {
    const c = this.conns.get(name);
    if (!c) throw new StepFailure(`no connection "${name}"`);
    return c;
  }

  async open(name: string, handshake: boolean, options?: DialOptions): Promise<void> {
    const c = await RawConn.open(this.url, DEFAULT_TIMEOUT_MS, options);
    this.conns.set(name, c);
    this.lastSend.set(name, performance.now());
    if (!handshake) return;
    await c.send(utf8.encode("01"));
    this.lastSend.set(name, performance.now());
    const v = await c.readBytes(2, DEFAULT_TIMEOUT_MS);
    if (v[0] !== 0x30 || v[1] !== 0x31) {
      throw new StepFailure(`server version "${preview(v)}", want "01"`);
    }
  }

  data(d: Data): Uint8Array {
    return typeof d === "function" ? d(this.captures) : d;
  }

  closeAll(): void {
    for (const c of this.conns.values()) c.destroy();
    this.conns.clear();
  }
}

async function runSteps(steps: Step[], run: Run, prefix: string): Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const where = `${prefix}${i + 1}`;
    try {
      await runStep(step, run, where);
    } catch (e) {
      if (e instanceof StepFailure && e.message.startsWith("step ")) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new StepFailure(`step ${where} (${describeStep(step)}): ${why}`);
    }
  }
}

async function runStep(step: Step, run: Run, where: string): Promise<void> {
  switch (step.do) {
    case "connect":
      return await run.open(step.conn, step.handshake ?? true);
    case "send": {
      const name = step.conn ?? "main";
      const c = run.conn(name);
      const bytes = run.data(step.data);
      const cuts = step.split === "bytes"
        ? Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1)
        : (step.split ?? []);
      let from = 0;
      for (const at of [...cuts, bytes.length]) {
        if (at <= from) continue;
        if (from > 0) await sleep(step.pauseMs ?? 2);
        if (step.frame === "text") await c.sendText(bytes.subarray(from, at));
        else await c.send(bytes.subarray(from, at));
        from = at;
      }
      run.lastSend.set(name, performance.now());
      return;
    }
    case "expect":
      return await expectMessages(step.msg, step.conn ?? "main", run, step);
    case "expectBytes": {
      const want = run.data(step.bytes);
      if (want.length === 0) return;
      const c = run.conn(step.conn);
      const timeoutMs = step.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let got: Uint8Array;
      if (want.length === 2 && want[0] === 0x30) {
        got = await c.readBytes(2, timeoutMs); // a version, not a message
      } else {
        // Whole messages, so that server heartbeats in between are set aside (unless expected).
        const deadline = performance.now() + timeoutMs;
        const parts: Uint8Array[] = [];
        let n = 0;
        while (n < want.length) {
          const r = await c.readMessage(deadline - performance.now(), want[0] !== 0x68);
          parts.push(r.raw);
          n += r.raw.length;
        }
        got = cat(...parts);
      }
      const at = equalBytes(want, got);
      if (at >= 0) {
        throw new StepFailure(
          `bytes differ at offset ${at}: got "${preview(got.subarray(at))}", want "${
            preview(want.subarray(at))
          }"`,
        );
      }
      return;
    }
    case "closed": {
      const used = new Set<number>();
      const allow = step.allowBefore ?? [];
      const c = run.conn(step.conn);
      const info = await c.waitClosed(step.timeoutMs ?? DEFAULT_TIMEOUT_MS, (m) => {
        const r = { message: m, raw: new Uint8Array(0), at: 0 };
        const i = allow.findIndex((p, j) =>
          !used.has(j) && mismatch({ ...p, raw: undefined }, r, run.captures) === undefined
        );
        if (i < 0) return false;
        used.add(i);
        return true;
      });
      if (step.closeCodes && c.kind === "ws") {
        if (!info.wsClose) {
          throw new StepFailure(
            `the WebSocket ended without a close frame (${info.kind}${
              info.detail ? `: ${info.detail}` : ""
            })`,
          );
        }
        const code = info.wsClose.code ?? 1005;
        if (!step.closeCodes.includes(code)) {
          throw new StepFailure(
            `close code ${code}${
              info.wsClose.reason ? ` (${JSON.stringify(info.wsClose.reason)})` : ""
            }, want ${step.closeCodes.join(" or ")}`,
          );
        }
        if (code !== 1000) run.okNotes.push(`close code ${code}`);
      }
      return;
    }
    case "wsMessages": {
      const c = run.conn(step.conn);
      const deadline = performance.now() + (step.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      for (const [i, want] of step.msgs.entries()) {
        const m = await c.readWsMessage(deadline - performance.now());
        const why = wsMismatch(want, m.bytes, run.captures);
        if (!m.binary) {
          throw new StepFailure(`message ${i + 1} ("${preview(m.bytes)}") is a text message`);
        }
        if (why) throw new StepFailure(`message ${i + 1}: ${why}`);
      }
      return;
    }
    case "wsClose":
      return await run.conn(step.conn).sendClose(step.code, step.reason);
    case "upgrade": {
      let status = 101;
      let conn: RawConn | undefined;
      try {
        conn = await RawConn.open(run.url, DEFAULT_TIMEOUT_MS, { origin: step.origin });
      } catch (e) {
        if (!(e instanceof UpgradeRefused)) throw e;
        status = e.status;
      }
      const outcome = step.outcomes.find((o) => o.status === status);
      if (!outcome) {
        conn?.destroy();
        throw new StepFailure(
          `HTTP ${status}, want ${step.outcomes.map((o) => o.status).join(" or ")}`,
        );
      }
      if (outcome.verdict === "NON-STRICT") run.nonStrict.push(outcome.note);
      else if (outcome.note) run.okNotes.push(outcome.note);
      if (conn) {
        run.conns.set(step.conn, conn);
        run.lastSend.set(step.conn, performance.now());
      }
      return;
    }
    case "http": {
      const judgement = await step.run((path, headers) =>
        httpGet(run.url, path, { headers, timeoutMs: DEFAULT_TIMEOUT_MS })
      );
      if (!judgement) return;
      if (judgement.verdict === "NON-STRICT") run.nonStrict.push(judgement.note);
      else if (judgement.verdict === "UNSUPPORTED") run.unsupported.push(judgement.note);
      else if (judgement.note) run.okNotes.push(judgement.note);
      return;
    }
    case "silence":
      return await run.conn(step.conn).silence(step.ms, step.heartbeats !== "forbid");
    case "collect": {
      const c = run.conn(step.conn);
      const deadline = performance.now() + step.ms;
      let count = 0;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        let r: Received;
        try {
          r = await c.readMessage(left, false);
        } catch (e) {
          if (e instanceof ReadError && e.kind === "timeout") break;
          throw e;
        }
        const why = mismatch(step.msg, r, run.captures);
        if (why) throw new StepFailure(`got ${describeMessage(r.message)}: ${why}`);
        count++;
        if (count > step.max) break;
      }
      if (count < step.min || count > step.max) {
        throw new StepFailure(`${count} matching messages, want ${step.min} to ${step.max}`);
      }
      return;
    }
    case "oneOf": {
      const marks = new Map([...run.conns].map(([n, c]) => [n, c.mark()]));
      const failures: string[] = [];
      try {
        for (const [k, outcome] of step.outcomes.entries()) {
          for (const [n, m] of marks) run.conns.get(n)?.rewind(m);
          try {
            await runSteps(outcome.steps, run, `${where}.${k + 1}.`);
          } catch (e) {
            if (!(e instanceof StepFailure)) throw e;
            failures.push(
              `[${outcome.verdict}${outcome.note ? ` ${outcome.note}` : ""}] ${e.message}`,
            );
            continue;
          }
          if (outcome.verdict === "NON-STRICT") run.nonStrict.push(outcome.note);
          else if (outcome.note && k > 0) run.okNotes.push(outcome.note);
          return;
        }
      } finally {
        for (const [n, m] of marks) run.conns.get(n)?.release(m);
      }
      throw new StepFailure(`no acceptable outcome: ${failures.join(" | ")}`);
    }
    case "pause": {
      const ms = typeof step.ms === "function" ? step.ms(run.captures) : step.ms;
      return await sleep(Math.min(ms, 10000));
    }
    case "end":
      return run.conn(step.conn).end();
    case "destroy":
      return run.conn(step.conn).destroy();
    case "repeat":
      for (let i = 0; i < step.times; i++) await runSteps(step.steps, run, `${where}.${i + 1}.`);
      return;
    case "script": {
      const name = step.conn ?? "main";
      const c = run.conn(name);
      const note = await step.run({
        send: async (b) => {
          await c.send(b);
          run.lastSend.set(name, performance.now());
        },
        next: async (ms) => (await c.readMessage(ms ?? DEFAULT_TIMEOUT_MS)).message,
        now: () => performance.now(),
      });
      if (note) run.nonStrict.push(note);
      return;
    }
    case "sigterm":
      if (!run.server) throw new StepFailure("the case has no server of its own");
      return run.server.sigterm();
    case "exited": {
      if (!run.server) throw new StepFailure("the case has no server of its own");
      const code = await run.server.waitExit(step.timeoutMs ?? 5000);
      if (code === undefined) throw new StepFailure("the server did not exit");
      if (code !== step.code) {
        throw new StepFailure(`the server exited with ${code}, want ${step.code}`);
      }
      return;
    }
  }
}

async function expectMessages(
  want: MessagePattern | MessagePattern[],
  connName: string,
  run: Run,
  step: { timeoutMs?: number; notBeforeMs?: number },
): Promise<void> {
  const patterns = Array.isArray(want) ? want : [want];
  const readHeartbeats = patterns.some((p) =>
    (Array.isArray(p.type) ? p.type : [p.type]).includes("h")
  );
  const c = run.conn(connName);
  const deadline = performance.now() + (step.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const done = new Array<boolean>(patterns.length).fill(false);
  let first = true;
  for (let left = patterns.length; left > 0; left--) {
    const r = await c.readMessage(Math.max(0, deadline - performance.now()), !readHeartbeats);
    if (first && step.notBeforeMs !== undefined) {
      const after = r.at - (run.lastSend.get(connName) ?? 0);
      if (after < step.notBeforeMs) {
        throw new StepFailure(
          `${describeMessage(r.message)} came ${
            after.toFixed(0)
          } ms after the last send, before ${step.notBeforeMs} ms`,
        );
      }
    }
    first = false;
    // Eligible: unmatched patterns that are the first unmatched one for their id.
    const seenIds = new Set<string>();
    const reasons: string[] = [];
    let hit = -1;
    for (let i = 0; i < patterns.length; i++) {
      if (done[i]) continue;
      const p = patterns[i];
      if (p.id !== undefined) {
        if (seenIds.has(p.id)) continue;
        seenIds.add(p.id);
      }
      const why = mismatch(p, r, run.captures);
      if (why === undefined) {
        hit = i;
        break;
      }
      if (reasons.length < 3) reasons.push(`${describePattern(p)}: ${why}`);
    }
    if (hit < 0) {
      throw new StepFailure(`unexpected ${describeMessage(r.message)} (${reasons.join("; ")})`);
    }
    done[hit] = true;
    const cap = patterns[hit].capture;
    if (cap) run.captures[cap] = r.message;
  }
}

/**
 * Runs one case against the server at `url`.
 *
 * @param c The case.
 * @param url The server URL (`tcp://HOST:PORT` or `ws://HOST:PORT/PATH`).
 * @param server Control over the case's own server, for `ownServer` cases.
 * @returns The verdict (never UNSUPPORTED: the caller decides that).
 */
export async function runCase(c: Case, url: string, server?: ServerControl): Promise<CaseResult> {
  const t0 = performance.now();
  const run = new Run(url, server);
  let verdict: Verdict;
  let detail: string;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const body = (async () => {
      await run.open("main", c.handshake ?? true).catch((e) => {
        throw new StepFailure(`connect: ${e instanceof Error ? e.message : e}`);
      });
      await runSteps(c.steps, run, "");
    })();
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepFailure(`the case took longer than ${CASE_TIMEOUT_MS} ms`)),
        CASE_TIMEOUT_MS,
      );
    });
    await Promise.race([body, backstop]);
    if (run.unsupported.length > 0) {
      verdict = "UNSUPPORTED";
      detail = run.unsupported.join("; ");
    } else {
      verdict = run.nonStrict.length > 0 ? "NON-STRICT" : "OK";
      detail = run.nonStrict.length > 0 ? run.nonStrict.join("; ") : run.okNotes.join("; ");
    }
  } catch (e) {
    verdict = "FAILED";
    detail = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
    run.closeAll();
  }
  if (!c.ownServer) {
    const alive = await aliveCheck(url);
    if (alive) {
      detail = verdict === "FAILED" ? `${detail}; and ${alive}` : alive;
      verdict = "FAILED";
    }
  }
  return { id: c.id, verdict, detail, ms: Math.round((performance.now() - t0) * 10) / 10 };
}

/** A new connection must do the handshake and answer echo; returns a failure text or "". */
async function aliveCheck(url: string): Promise<string> {
  const run = new Run(url, undefined);
  try {
    await run.open("alive", true);
    const c = run.conn("alive");
    await c.send(cat(req("live", "echo", "alive?")));
    const r = await c.readMessage(DEFAULT_TIMEOUT_MS);
    const m: Message = r.message;
    if (m.type !== "R" || m.id !== idNum("live") || utf8d.decode(m.payload) !== "alive?") {
      return `after the case, echo on a new connection got ${describeMessage(m)}`;
    }
    return "";
  } catch (e) {
    return `after the case, the server did not serve a new connection: ${
      e instanceof Error ? e.message : e
    }`;
  } finally {
    run.closeAll();
  }
}
