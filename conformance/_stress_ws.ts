/**
 * The stress section's WebSocket row (conformance/stress.ts): RFC 6455 violations sent over a
 * raw socket after a real upgrade at /gotalk/, each expecting a close frame with the right code
 * (1002 protocol error, 1007 bad UTF-8, 1009 too big) and then the end of the TCP connection
 * although we never answer the close; and a half-sent upgrade request, which must be dropped.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { openSocket } from "./_stress_net.ts";
import type { Row, Start } from "./_stress_proc.ts";

/** A client frame: masked unless said otherwise. */
function frame(
  opcode: number,
  payload: Uint8Array,
  o: { fin?: boolean; rsv?: number; mask?: boolean; declared?: bigint } = {},
): Uint8Array {
  const mask = o.mask ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const len = o.declared ?? BigInt(payload.length);
  const m = mask ? 0x80 : 0;
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) head.push(m | 126, Number(len >> 8n) & 0xff, Number(len) & 0xff);
  else {
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(8 * i)) & 0xffn));
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) head.push(...key);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  for (let i = 0; i < payload.length; i++) {
    out[head.length + i] = mask ? payload[i] ^ key[i % 4] : payload[i];
  }
  return out;
}

const bytes = (...xs: number[]) => new Uint8Array(xs);
const text = (s: string) => new TextEncoder().encode(s);
const closePayload = (code: number, reason: Uint8Array = bytes()) =>
  new Uint8Array([code >> 8, code & 0xff, ...reason]);

/** The cases: what to send after the upgrade, and the close code RFC 6455 wants. */
const CASES: Array<{ name: string; send: Uint8Array[]; code: number }> = [
  { name: "unmasked frame", send: [frame(2, text("01"), { mask: false })], code: 1002 },
  { name: "RSV1 without an extension", send: [frame(2, text("01"), { rsv: 4 })], code: 1002 },
  { name: "RSV3", send: [frame(2, text("01"), { rsv: 1 })], code: 1002 },
  { name: "reserved opcode 3", send: [frame(3, text("01"))], code: 1002 },
  { name: "reserved control opcode 11", send: [frame(11, bytes())], code: 1002 },
  { name: "ping of 126 bytes", send: [frame(9, new Uint8Array(126))], code: 1002 },
  { name: "fragmented ping", send: [frame(9, text("x"), { fin: false })], code: 1002 },
  { name: "continuation first", send: [frame(0, text("01"))], code: 1002 },
  {
    name: "new message inside a fragmented one",
    send: [frame(2, text("0"), { fin: false }), frame(2, text("1"))],
    code: 1002,
  },
  { name: "close code 1005", send: [frame(8, closePayload(1005))], code: 1002 },
  { name: "close code 999", send: [frame(8, closePayload(999))], code: 1002 },
  { name: "close code 5000", send: [frame(8, closePayload(5000))], code: 1002 },
  { name: "close payload of 1 byte", send: [frame(8, bytes(3))], code: 1002 },
  {
    name: "close reason not UTF-8",
    send: [frame(8, closePayload(1000, bytes(0xc3, 0x28)))],
    code: 1007,
  },
  { name: "text not UTF-8", send: [frame(1, bytes(0x30, 0x31, 0xff, 0xfe))], code: 1007 },
  {
    name: "frame declaring 1 TiB",
    send: [frame(2, bytes(), { declared: 1n << 40n })],
    code: 1009,
  },
];

/** What a raw upgraded connection saw: the close code the server sent, and when TCP ended. */
interface WsOutcome {
  upgraded: boolean;
  closeCode?: number;
  endedMs?: number;
}

/** Upgrades at /gotalk/, sends `frames`, never answers a close, and watches (bounded: 15 s). */
async function attack(port: number, frames: Uint8Array[]): Promise<WsOutcome> {
  const s = await openSocket(port);
  const t0 = performance.now();
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let closeCode: number | undefined;
  const ended = new Promise<number>((resolve) => s.once("close", () => resolve(performance.now())));
  s.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      upgraded = /^HTTP\/1\.1 101/.test(buf.subarray(0, end).toString("latin1"));
      buf = buf.subarray(end + 4);
      if (upgraded) { for (const f of frames) s.write(f); }
    }
    // Server frames: unmasked; look for a close frame.
    for (;;) {
      if (buf.length < 2) break;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (buf.length < at + len) break;
      if ((buf[0] & 0x0f) === 8 && closeCode === undefined) {
        closeCode = len >= 2 ? buf.readUInt16BE(at) : 1005;
      }
      buf = buf.subarray(at + len);
    }
  });
  s.write(upgradeRequest(port));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const at = await Promise.race([
    ended,
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 15_000)),
  ]);
  clearTimeout(timer);
  s.destroy();
  return { upgraded, closeCode, endedMs: at === undefined ? undefined : at - t0 };
}

function upgradeRequest(port: number): string {
  return `GET /gotalk/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    `Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:${port}\r\n\r\n`;
}

/** Sends half an upgrade request; resolves with when the server dropped it (bounded: 30 s). */
async function halfUpgrade(port: number): Promise<number | undefined> {
  const s: Socket = await openSocket(port);
  const t0 = performance.now();
  s.on("data", () => {});
  const ended = new Promise<number>((resolve) => s.once("close", () => resolve(performance.now())));
  s.write(`GET /gotalk/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const at = await Promise.race([
    ended,
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 30_000)),
  ]);
  clearTimeout(timer);
  s.destroy();
  return at === undefined ? undefined : at - t0;
}

/**
 * Every case gets the close code RFC 6455 asks for and the TCP connection ends (we never answer
 * the close); a half-sent upgrade is dropped within 30 s.
 */
export async function wsAbuse(_impl: string, start: Start): Promise<Row> {
  const s = await start("ws");
  const half = halfUpgrade(s.port);
  const outcomes = await Promise.all(CASES.map((c) => attack(s.port, c.send)));
  const details: string[] = [];
  let right = 0;
  let worstEnd = 0;
  outcomes.forEach((o, i) => {
    const c = CASES[i];
    const good = o.upgraded && o.closeCode === c.code && o.endedMs !== undefined;
    if (good) right++;
    if (o.endedMs !== undefined) worstEnd = Math.max(worstEnd, o.endedMs);
    if (!good) {
      details.push(
        `${c.name}: ${!o.upgraded ? "no upgrade" : `close code ${o.closeCode ?? "none"}`} ` +
          `(want ${c.code}), TCP ${o.endedMs === undefined ? "open after 15 s" : "closed"}`,
      );
    }
  });
  const halfMs = await half;
  if (halfMs === undefined) details.push("half-sent upgrade: still open after 30 s");
  const ok = right === CASES.length && halfMs !== undefined;
  return {
    ok,
    figures: `${right} of ${CASES.length} violations closed with the right code, TCP ended by ` +
      `${worstEnd.toFixed(0)} ms at worst; half-sent upgrade dropped ${
        halfMs === undefined ? "never (30 s)" : `after ${(halfMs / 1000).toFixed(1)} s`
      }`,
    details,
    data: { right, cases: CASES.length, worstEndMs: worstEnd, halfUpgradeMs: halfMs },
  };
}

/** Whether an upgrade at /gotalk/ is answered with 101 (bounded: `maxMs`). */
async function upgrades(port: number, maxMs: number): Promise<boolean> {
  const s = await openSocket(port).catch(() => null);
  if (s === null) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    new Promise<boolean>((resolve) => {
      let buf = "";
      s.on("data", (d: Buffer) => {
        buf += d.toString("latin1");
        if (buf.includes("\r\n\r\n")) resolve(/^HTTP\/1\.1 101/.test(buf));
      });
      s.once("close", () => resolve(false));
      s.write(upgradeRequest(port));
    }),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), maxMs)),
  ]);
  clearTimeout(timer);
  s.destroy();
  return ok;
}

/**
 * The fd row for the WebSocket server: under `ulimit -n nofile`, `connections` sockets that
 * each ask for an upgrade exhaust its descriptors; over `windowMs` it uses at most `cpuBound` of
 * a core, and once they go a new upgrade succeeds.
 */
export async function wsFdExhaustion(
  start: Start,
  o: {
    nofile: number;
    connections: number;
    windowMs: number;
    cpuBound: number;
    cpuSeconds: (pid: number) => number;
    fdCount: (pid: number) => number;
    settle: (v: () => number, slack: number, o?: { maxMs?: number }) => Promise<number>;
  },
): Promise<Row> {
  const s = await start("ws", [], o.nofile);
  const before = await upgrades(s.port, 10_000);
  const sockets = await Promise.all(
    Array.from({ length: o.connections }, () => openSocket(s.port).catch(() => null)),
  );
  for (const k of sockets) k?.write(upgradeRequest(s.port));
  const fds = await o.settle(() => o.fdCount(s.pid), 0, { maxMs: 5_000 });
  const c0 = o.cpuSeconds(s.pid);
  await new Promise((r) => setTimeout(r, o.windowMs));
  const cpu = o.cpuSeconds(s.pid) - c0;
  for (const k of sockets) k?.destroy();
  await o.settle(() => o.fdCount(s.pid), 0, { maxMs: 5_000 });
  const t0 = performance.now();
  const after = await upgrades(s.port, 15_000);
  const recoveryMs = performance.now() - t0;
  const share = cpu / (o.windowMs / 1000);
  return {
    ok: before && after && share <= o.cpuBound,
    figures: `${fds} fds open (limit ${o.nofile}): CPU ${cpu.toFixed(2)} s over ` +
      `${o.windowMs / 1000} s = ${(share * 100).toFixed(0)} % (bound ${o.cpuBound * 100} %); ` +
      `a new upgrade ${after ? `answered 101 in ${recoveryMs.toFixed(0)} ms` : "FAILED"} ` +
      "after the others left",
    data: { fds, cpuSeconds: cpu, share, recovered: after },
  };
}
