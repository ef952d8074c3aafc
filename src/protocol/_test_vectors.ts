// Loads the language-neutral spec vectors in conformance/vectors/ (see its README for the format).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message } from "./message.ts";

/** A byte string as vectors write it: Latin-1 text, or segments with repeats. */
export type ByteString = string | Array<string | { repeat: string; count: number }>;

/** One vector, as in the JSON files. */
export interface Vector {
  id: string;
  description?: string;
  source?: string;
  handshake?: boolean;
  input: ByteString;
  options?: { maxPayloadBytes?: number; maxNameBytes?: number };
  messages?: Array<Record<string, unknown>>;
  canonical?: boolean;
  error?: { code: number; offset: number };
}

/** Finds conformance/vectors by walking up from this file (works for the npm test build too). */
export function vectorsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "conformance", "vectors");
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error("conformance/vectors not found above " + import.meta.url);
}

/** Every vector of every JSON file, in file order. */
export function loadVectors(): Vector[] {
  const dir = vectorsDir();
  const out: Vector[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, f), "utf8"));
    if (doc.format !== "gotalk-vectors/1") throw new Error(`${f}: unknown format ${doc.format}`);
    out.push(...doc.vectors);
  }
  return out;
}

function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`Byte string has code unit ${c} > 0xff`);
    b[i] = c;
  }
  return b;
}

/** The bytes a vector byte string stands for. */
export function bytesOf(s: ByteString): Uint8Array {
  if (typeof s === "string") return latin1(s);
  const parts = s.map((seg) => {
    if (typeof seg === "string") return latin1(seg);
    const unit = latin1(seg.repeat);
    const b = new Uint8Array(unit.length * seg.count);
    for (let i = 0; i < seg.count; i++) b.set(unit, i * unit.length);
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function idOf(hex: unknown): number {
  if (typeof hex !== "string" || !/^[0-9a-f]{8}$/.test(hex)) throw new Error(`Bad id ${hex}`);
  return parseInt(hex, 16);
}

/** A vector's expected message as a codec {@linkcode Message}. */
export function messageOf(m: Record<string, unknown>): Message {
  const t = m.type as string;
  const payload = () => bytesOf((m.payload ?? "") as ByteString);
  switch (t) {
    case "r":
    case "s":
      return { type: t, id: idOf(m.id), name: m.name as string, payload: payload() };
    case "p":
    case "R":
    case "S":
    case "E":
      return { type: t, id: idOf(m.id), payload: payload() };
    case "e":
      return { type: t, id: idOf(m.id), wait: m.wait as number, payload: payload() };
    case "n":
      return { type: t, name: m.name as string, payload: payload() };
    case "h":
      return { type: t, load: m.load as number, time: m.time as number };
    case "f":
      return { type: t, code: m.code as number };
  }
  throw new Error(`Unknown vector message type ${t}`);
}

const latin1Decoder = new TextDecoder("latin1");

/** A plain, cheaply comparable form of a message (payloads become Latin-1 strings). */
export function plain(m: Message): unknown {
  return "payload" in m ? { ...m, payload: latin1Decoder.decode(m.payload) } : { ...m };
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A readable stream of the given chunks (`ReadableStream.from` is not typed everywhere). */
export function streamOf<T>(chunks: T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream<T>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

/** Reads a stream to its end (`Array.fromAsync` is missing on Node 20). */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream as unknown as AsyncIterable<T>) out.push(x);
  return out;
}
