// The file `gotalk tap --record FILE` writes and `gotalk replay FILE` reads: JSON lines, a header
// then one line per chunk as it arrived (base64) and per connection event, each with its time
// in ms since the tap started. Written synchronously, so a tap stopped by a signal loses
// nothing. Internal to the command.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import type { Direction } from "./_tap_frames.ts";

/** The first line of a recording. */
export const RECORD_FORMAT = "gotalk-tap-record/1";

/** One line after the header. */
export type RecordLine =
  | { t: number; conn: number; event: "open" | "close" }
  | { t: number; conn: number; dir: Direction; event: "end" }
  | { t: number; conn: number; dir: Direction; data: string };

/** Appends a conversation to a file. */
export class Recorder {
  readonly #fd: number;
  readonly #t0 = performance.now();

  constructor(path: string, header: Record<string, string>) {
    this.#fd = openSync(path, "w");
    this.#line({ format: RECORD_FORMAT, started: new Date().toISOString(), ...header });
  }

  #line(obj: unknown): void {
    writeSync(this.#fd, JSON.stringify(obj) + "\n");
  }

  #t(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  /** A connection opened or closed. */
  event(conn: number, event: "open" | "close"): void {
    this.#line({ t: this.#t(), conn, event });
  }

  /** A direction ended. */
  end(conn: number, dir: Direction): void {
    this.#line({ t: this.#t(), conn, dir, event: "end" });
  }

  /** Bytes arrived. */
  data(conn: number, dir: Direction, bytes: Uint8Array): void {
    this.#line({ t: this.#t(), conn, dir, data: toBase64(bytes) });
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/** One connection of a recording: its chunks in both directions, in order. */
export interface RecordedConn {
  conn: number;
  chunks: { t: number; dir: Direction; bytes: Uint8Array }[];
}

/**
 * Reads a recording.
 *
 * @throws {Error} If the file is not a recording.
 */
export function readRecording(path: string): RecordedConn[] {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
  const header = lines.length > 0 ? JSON.parse(lines[0]) : undefined;
  if (header?.format !== RECORD_FORMAT) {
    throw new Error(`${path} is not a recording of gotalk tap --record (${RECORD_FORMAT})`);
  }
  const conns = new Map<number, RecordedConn>();
  for (const text of lines.slice(1)) {
    const line = JSON.parse(text) as RecordLine;
    let c = conns.get(line.conn);
    if (c === undefined) conns.set(line.conn, c = { conn: line.conn, chunks: [] });
    if ("data" in line) c.chunks.push({ t: line.t, dir: line.dir, bytes: fromBase64(line.data) });
  }
  return [...conns.values()].sort((a, b) => a.conn - b.conn);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
