/**
 * How the runner judges what came back: a decoded message against a {@linkcode MessagePattern},
 * a payload against a {@linkcode PayloadMatch}, a WebSocket message against a
 * {@linkcode WsMessagePattern}; and the one-line descriptions of patterns and steps that verdict
 * details quote.
 *
 * @module
 */

import {
  type Captures,
  idNum,
  idStr,
  type MessagePattern,
  type PayloadMatch,
  type Step,
  type WsMessagePattern,
} from "./catalogue/mod.ts";
import type { Received } from "./raw/conn.ts";
import { preview } from "./raw/describe.ts";

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** The first offset where `a` and `b` differ, or -1 when they are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function matchPayload(want: PayloadMatch, got: Uint8Array): string | undefined {
  if (typeof want === "function") return want(got);
  if (want instanceof Uint8Array || typeof want === "string") {
    const w = typeof want === "string" ? utf8.encode(want) : want;
    const at = equalBytes(w, got);
    return at < 0
      ? undefined
      : `payload differs at byte ${at}: got "${preview(got)}", want "${preview(w)}"`;
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8d.decode(got));
  } catch {
    return `payload is not JSON: "${preview(got)}"`;
  }
  return deepEqual(value, want.json)
    ? undefined
    : `payload ${preview(got, 80)} is not ${JSON.stringify(want.json).slice(0, 80)}`;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** Why `r` does not match `p`, or undefined. */
export function mismatch(p: MessagePattern, r: Received, caps: Captures): string | undefined {
  const m = r.message;
  const types = Array.isArray(p.type) ? p.type : [p.type];
  if (!types.includes(m.type)) return `type ${m.type}, want ${types.join("|")}`;
  const mid = "id" in m ? m.id : undefined;
  if (p.id !== undefined && mid !== idNum(p.id)) {
    return `id "${preview(utf8.encode(mid === undefined ? "" : idStr(mid)))}", want "${p.id}"`;
  }
  if (p.idOf !== undefined) {
    const other = caps[p.idOf];
    if (!other || !("id" in other) || other.id !== mid) return `id differs from ${p.idOf}'s`;
  }
  if (p.name !== undefined && (!("name" in m) || m.name !== p.name)) {
    return `name ${JSON.stringify("name" in m ? m.name.slice(0, 40) : "")}, want ${
      JSON.stringify(p.name.slice(0, 40))
    }`;
  }
  if (p.code !== undefined && (m.type !== "f" || m.code !== p.code)) {
    return `code ${m.type === "f" ? m.code : "-"}, want ${p.code}`;
  }
  if (p.payload !== undefined) {
    if (!("payload" in m)) return "no payload";
    const why = matchPayload(p.payload, m.payload);
    if (why) return why;
  }
  if (p.raw && !p.raw.test(latin1(r.raw))) {
    return `wire bytes "${preview(r.raw)}" do not match ${p.raw}`;
  }
  return p.test?.(m, caps);
}

/** A pattern, briefly (for details). */
export function describePattern(p: MessagePattern): string {
  const parts = [Array.isArray(p.type) ? p.type.join("|") : p.type];
  if (p.id !== undefined) parts.push(`id="${preview(utf8.encode(p.id))}"`);
  if (p.name !== undefined) parts.push(`name=${JSON.stringify(p.name.slice(0, 30))}`);
  if (p.code !== undefined) parts.push(`code=${p.code}`);
  if (typeof p.payload === "string") parts.push(`"${preview(utf8.encode(p.payload), 30)}"`);
  return parts.join(" ");
}

/** A step, briefly (for the `step N (...)` prefix of a failure). */
export function describeStep(s: Step): string {
  switch (s.do) {
    case "send":
      return s.frame === "text" ? "send a text message" : "send";
    case "wsMessages":
      return `expect ${s.msgs.length} WebSocket message(s)`;
    case "wsClose":
      return `send a close frame (${s.code ?? "no code"})`;
    case "upgrade":
      return `upgrade with ${
        s.origin === null ? "no Origin" : `Origin ${s.origin ?? "(default)"}`
      }`;
    case "expect":
      return Array.isArray(s.msg)
        ? `expect ${s.msg.length} messages (${s.msg.slice(0, 3).map(describePattern).join(", ")}${
          s.msg.length > 3 ? ", …" : ""
        })`
        : `expect ${describePattern(s.msg)}`;
    case "expectBytes":
      return "expect bytes";
    case "closed":
      return "expect close";
    case "silence":
      return `expect ${s.ms} ms of silence`;
    case "collect":
      return `collect ${describePattern(s.msg)} for ${s.ms} ms`;
    default:
      return s.do;
  }
}

/** Why a WebSocket message does not match, or undefined. */
export function wsMismatch(
  want: WsMessagePattern,
  got: Uint8Array,
  caps: Captures,
): string | undefined {
  if (want instanceof RegExp) {
    return want.test(latin1(got)) ? undefined : `"${preview(got)}" does not match ${want}`;
  }
  const w = typeof want === "string"
    ? Uint8Array.from(want, (ch) => ch.charCodeAt(0))
    : typeof want === "function"
    ? want(caps)
    : want;
  return equalBytes(w, got) < 0 ? undefined : `got "${preview(got)}", want "${preview(w)}"`;
}
