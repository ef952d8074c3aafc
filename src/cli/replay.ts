// deno-lint-ignore-file no-console -- a command line tool prints
// `gotalk replay FILE TARGET`: sends the client side of a conversation recorded by
// `gotalk tap --record FILE` to a server and reports where the server's answers differ from the
// recorded ones.

import type { Message } from "../protocol/message.ts";
import { dial, parseTarget, type Target, UsageError } from "./_url.ts";
import { numberFlag, parseFlags } from "./_flags_tap.ts";
import { frameFields, FrameWatcher, preview, type TapEvent, typeName } from "./_tap_frames.ts";
import { readRecording, type RecordedConn } from "./_tap_record.ts";

/** The help text of `gotalk replay`. */
export const HELP = `Usage: gotalk replay [--json] [--timeout MS] FILE TARGET

Replays the client side of each connection recorded by gotalk tap --record FILE against the
server at TARGET (tcp://, tls://, ws://, wss://), one connection after the other, and compares
the server's frames with the recorded ones (heartbeats aside; results may come in another
order). Each client chunk is sent once the server has answered as much as it had when the
chunk was recorded, so the replay keeps the conversation's causality, not its pauses.

Options:
  --json          one JSON object per connection: expected, matched, missing, unexpected
  --timeout MS    how long to wait for an expected answer (default 5000)

Exit status: 0 the same answers, 1 differences, 2 usage, 3 connection failure.

Examples:
  gotalk tap --record session.jsonl tcp://127.0.0.1:4000 tcp://127.0.0.1:1234
  gotalk replay session.jsonl tcp://127.0.0.1:1234
  gotalk replay --json session.jsonl ws://127.0.0.1:8080/gotalk/`;

/** A connection's comparison. */
interface ConnReport {
  conn: number;
  expected: number;
  matched: number;
  missing: string[];
  unexpected: string[];
}

/** Runs `gotalk replay ARGS`; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  let file: string, target: Target, json: boolean, timeoutMs: number;
  try {
    const p = parseFlags("gotalk replay", argv, { booleans: ["json"], values: ["timeout"] });
    if (p.positional.length !== 2) throw new UsageError("gotalk replay needs FILE and TARGET");
    file = p.positional[0];
    target = parseTarget(p.positional[1]);
    json = p.booleans.has("json");
    timeoutMs = numberFlag("gotalk replay", p, "timeout", 5000, "ms");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${HELP}`);
    return 2;
  }
  let recording: RecordedConn[];
  try {
    recording = readRecording(file);
  } catch (e) {
    console.error(`gotalk replay: ${e instanceof Error ? e.message : e}`);
    return 2;
  }
  let differ = false;
  for (const rec of recording) {
    let report: ConnReport;
    try {
      report = await replayConn(rec, target, timeoutMs);
    } catch (e) {
      console.error(`gotalk replay: #${rec.conn}: ${e instanceof Error ? e.message : e}`);
      return 3;
    }
    differ ||= report.missing.length > 0 || report.unexpected.length > 0;
    if (json) console.log(JSON.stringify(report));
    else {
      const same = report.missing.length === 0 && report.unexpected.length === 0;
      console.log(
        `#${report.conn}: ${report.matched}/${report.expected} frames as recorded${
          same ? "" : `, ${report.missing.length} missing, ${report.unexpected.length} unexpected`
        }`,
      );
      for (const m of report.missing) console.log(`  - missing:    ${m}`);
      for (const u of report.unexpected) console.log(`  + unexpected: ${u}`);
    }
  }
  if (!json) {
    console.log(
      differ ? "replay: the server answered differently" : "replay: the same answers",
    );
  }
  return differ ? 1 : 0;
}

/** How a frame is compared: everything but heartbeats, by type, id, name and payload. */
function key(m: Message): string | undefined {
  if (m.type === "h") return undefined;
  const fields = Object.entries(frameFields(m)).map(([k, v]) => `${k}=${v}`).join(" ");
  const p = "payload" in m ? preview(m.payload, 60) : undefined;
  const payload = "payload" in m
    ? `  ${m.payload.length} B${p && p.kind !== "empty" ? `  ${p.text}` : ""}  #${hash(m.payload)}`
    : "";
  return `${m.type === "handshake" ? "--" : m.type} ${typeName(m)}  ${fields}${payload}`;
}

/** A short digest so that payloads with the same preview still compare by content. */
function hash(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The keys of a direction's events; malformed input compares by its raw bytes. */
function keys(events: TapEvent[]): string[] {
  const out: string[] = [];
  for (const ev of events) {
    if (ev.kind === "frame") {
      const k = key(ev.message);
      if (k !== undefined) out.push(k);
    } else out.push(`!! ${ev.kind} ${ev.bytes.length} B #${hash(ev.bytes)}`);
  }
  return out;
}

async function replayConn(
  rec: RecordedConn,
  target: Target,
  timeoutMs: number,
): Promise<ConnReport> {
  // What the server said, and when (in the recording's time), counted in compared frames.
  const expectedWatcher = new FrameWatcher();
  const expected: { t: number; key: string }[] = [];
  for (const c of rec.chunks) {
    if (c.dir !== "s2c") continue;
    for (const k of keys(expectedWatcher.feed(c.bytes))) expected.push({ t: c.t, key: k });
  }
  const transport = await dial(target, { signal: AbortSignal.timeout(10_000) });
  const actual: string[] = [];
  const watcher = new FrameWatcher();
  let wake: (() => void) | undefined;
  let ended = false;
  const reading = (async () => {
    const reader = transport.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        actual.push(...keys(watcher.feed(value)));
        wake?.();
      }
    } catch {
      // the server closed abruptly: what it sent is compared
    } finally {
      ended = true;
      wake?.();
    }
  })();
  /** Waits until `n` frames came back, the server closed, or the timeout. */
  const waitFor = async (n: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (actual.length < n && !ended) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  const writer = transport.writable.getWriter();
  try {
    for (const c of rec.chunks) {
      if (c.dir !== "c2s") continue;
      await waitFor(expected.filter((e) => e.t < c.t).length);
      await writer.write(c.bytes);
    }
    await waitFor(expected.length);
  } finally {
    transport.close();
    await reading;
  }
  // Multiset difference: results may come back in another order.
  const left = new Map<string, number>();
  for (const k of actual) left.set(k, (left.get(k) ?? 0) + 1);
  const missing: string[] = [];
  let matched = 0;
  for (const { key: k } of expected) {
    const n = left.get(k) ?? 0;
    if (n > 0) {
      left.set(k, n - 1);
      matched++;
    } else missing.push(k);
  }
  const unexpected = [...left].flatMap(([k, n]) => Array(n).fill(k));
  return { conn: rec.conn, expected: expected.length, matched, missing, unexpected };
}
