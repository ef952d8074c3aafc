// How `gotalk tap` prints what it sees: one line per frame (time, connection, direction, type by
// name, id, op, sizes, a preview, the round-trip time of a result's request), in colour on a
// terminal, or one JSON object per line with `--json`. Internal to the command.

import {
  type Direction,
  frameFields,
  preview,
  RoundTrips,
  type TapEvent,
  typeName,
} from "./_tap_frames.ts";
import { palette } from "./_tap_io.ts";

const ARROW: Record<Direction, string> = { c2s: "C→S", s2c: "S→C" };

/** Prints tap events as text lines or JSON objects through `out` (one line per call). */
export class TapPrinter {
  readonly #json: boolean;
  readonly #out: (line: string) => void;
  readonly #c: ReturnType<typeof palette>;
  readonly #trips = new Map<number, RoundTrips>();

  constructor(options: { json: boolean; colour: boolean; out: (line: string) => void }) {
    this.#json = options.json;
    this.#out = options.out;
    this.#c = palette(options.colour && !options.json);
  }

  #time(): string {
    const d = new Date();
    if (this.#json) return d.toISOString();
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
      p(d.getMilliseconds(), 3)
    }`;
  }

  #emit(conn: number, dir: Direction | undefined, obj: Record<string, unknown>, text: string) {
    if (this.#json) {
      this.#out(JSON.stringify({ time: this.#time(), conn, ...(dir ? { dir } : {}), ...obj }));
      return;
    }
    const c = this.#c;
    const arrow = dir === undefined
      ? "   "
      : dir === "c2s"
      ? c.cyan(ARROW[dir])
      : c.magenta(ARROW[dir]);
    this.#out(`${c.dim(this.#time())} ${c.dim(`#${conn}`)} ${arrow} ${text}`);
  }

  /** A connection was accepted and its target reached. */
  open(conn: number, from: string | undefined, to: string): void {
    this.#trips.set(conn, new RoundTrips());
    this.#emit(
      conn,
      undefined,
      { type: "open", from: from ?? null, to },
      this.#c.dim(`open ${from ?? "?"} → ${to}`),
    );
  }

  /** A direction ended (its sender closed), possibly inside a frame. */
  end(conn: number, dir: Direction, partial: boolean): void {
    this.#emit(
      conn,
      dir,
      { type: "end", partial },
      partial ? this.#c.red("end, inside a frame (!!)") : this.#c.dim("end"),
    );
  }

  /** The connection is gone. */
  close(conn: number): void {
    this.#trips.delete(conn);
    this.#emit(conn, undefined, { type: "close" }, this.#c.dim("close"));
  }

  /** Something went wrong on a connection (not the conversation's bytes). */
  note(conn: number, dir: Direction | undefined, message: string): void {
    this.#emit(conn, dir, { type: "note", message }, this.#c.yellow(message));
  }

  /** A frame, a decode error or raw bytes seen in `dir`. */
  event(conn: number, dir: Direction, ev: TapEvent, now: number): void {
    const c = this.#c;
    if (ev.kind !== "frame") {
      const p = preview(ev.bytes, 60);
      const hex = p.kind === "hex" ? `hex ${p.text}` : p.text;
      if (ev.kind === "malformed") {
        this.#emit(
          conn,
          dir,
          { type: "malformed", error: ev.error, bytes: ev.bytes.length, preview: p.text },
          c.red(`!! malformed: ${ev.error}; forwarded unchanged: ${ev.bytes.length} B`) +
            (ev.bytes.length ? `  ${hex}` : ""),
        );
      } else {
        this.#emit(
          conn,
          dir,
          { type: "raw", bytes: ev.bytes.length, preview: p.text },
          `${c.red(`!! raw ${ev.bytes.length} B`)}  ${hex}`,
        );
      }
      return;
    }
    const m = ev.message;
    const fields = frameFields(m);
    const rtt = this.#trips.get(conn)?.see(dir, m, now);
    const rttMs = rtt === undefined ? undefined : Math.round(rtt * 1000) / 1000;
    const p = "payload" in m ? preview(m.payload) : undefined;
    if (this.#json) {
      this.#emit(conn, dir, {
        type: m.type,
        kind: typeName(m),
        ...fields,
        headerBytes: ev.headerBytes,
        payloadBytes: ev.payloadBytes,
        ...(p && p.kind !== "empty" ? { preview: p.text, previewKind: p.kind } : {}),
        ...(rttMs !== undefined ? { rttMs } : {}),
      }, "");
      return;
    }
    const type = m.type === "E" || m.type === "f" || m.type === "e" ? c.red : c.bold;
    const parts = [
      type(`${m.type === "handshake" ? "--" : m.type} ${typeName(m)}`),
      ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
      c.dim(`${ev.headerBytes}+${ev.payloadBytes} B`),
    ];
    if (p && p.kind !== "empty") parts.push(p.kind === "hex" ? c.dim(`hex ${p.text}`) : p.text);
    if (rttMs !== undefined) parts.push(c.green(`rtt ${rttMs.toFixed(2)} ms`));
    this.#emit(conn, dir, {}, parts.join("  "));
  }
}
