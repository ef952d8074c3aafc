// The operations of the conformance peer (conformance/peer.ts `serve`), shared with
// `gotalk serve` so that both answer the same: conformance/README.md is their contract.

import { Handlers, RemoteError, type Session } from "../../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Waits `ms`, or until `signal` aborts; its listener goes when it ends, either way. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const end = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", end);
      resolve();
    };
    const t = setTimeout(end, ms);
    signal?.addEventListener("abort", end, { once: true });
  });
}

/** The chunks, concatenated. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** What the `notes` operation answers: the notifications a connection has sent. */
export interface Notes {
  count: number;
  last: { name: string; value: unknown } | null;
}

/**
 * The conformance peer's operations (conformance/README.md): `echo`, `upper`, `fail`, `sleep`,
 * `stream-echo`, `stream-concat`, `echo-parts`, `stream-block`, `notify-back`, `call-back`,
 * `notes`, and the notifications `block` and any other name (recorded for `notes`).
 * `onNotification` also sees each recorded notification (`gotalk serve` prints them).
 */
export function serveHandlers(
  onNotification?: (name: string, value: unknown) => void,
): Handlers {
  const notes = new WeakMap<Session, Notes>();
  const notesOf = (peer: Session) => {
    let n = notes.get(peer);
    if (!n) notes.set(peer, n = { count: 0, last: null });
    return n;
  };
  return new Handlers()
    .handleBuffer("echo", (p) => p)
    .handle("upper", (s: string) => {
      if (typeof s !== "string") throw new TypeError("upper takes a string");
      return s.toUpperCase();
    })
    .handleBuffer("fail", (p, ctx) => {
      // A RemoteError's payload is sent byte for byte, even when it is not UTF-8.
      throw new RemoteError(ctx.op, p);
    })
    .handle("sleep", async ({ ms, value }: { ms: number; value: unknown }, ctx) => {
      await sleep(ms, ctx.signal);
      return value;
    })
    .handleStream("stream-echo", (parts) => parts)
    // A streaming request answered with one single result: the parts, concatenated.
    .handleStream("stream-concat", async (parts) => {
      const chunks: Uint8Array[] = [];
      for await (const part of parts as unknown as AsyncIterable<Uint8Array>) chunks.push(part);
      return concat(chunks);
    })
    // A single request answered with a streaming result: one part per (non-empty) string.
    .handle("echo-parts", ({ parts }: { parts: string[] }) => {
      if (!Array.isArray(parts) || !parts.every((p) => typeof p === "string")) {
        throw new TypeError('echo-parts takes {"parts": [strings]}');
      }
      return new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of parts) if (p !== "") c.enqueue(enc.encode(p));
          c.close();
        },
      });
    })
    // A slow stream consumer: reads the first part ({"ms":N}), reads nothing more for N ms,
    // then echoes the remaining parts as stream-echo does.
    .handleStream("stream-block", async (parts, ctx) => {
      const reader = parts.getReader();
      const first = await reader.read();
      const { ms } = JSON.parse(dec.decode(first.value ?? new Uint8Array(0))) as { ms: number };
      await sleep(ms, ctx.signal);
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
    })
    .handle("notify-back", async ({ name, value }: { name: string; value: unknown }, ctx) => {
      await ctx.peer.notify(name, value);
      return true;
    })
    .handle(
      "call-back",
      ({ op, value }: { op: string; value: unknown }, ctx) =>
        ctx.peer.request(op, value, { timeoutMs: 10_000 }),
    )
    .handle("notes", (_v, ctx) => notesOf(ctx.peer))
    // A slow notification handler: takes N ms. Not recorded by `notes`.
    .handleNotification("block", async ({ ms }: { ms: number }) => {
      await sleep(ms);
    })
    .handleNotificationFallback((payload, ctx) => {
      const n = notesOf(ctx.peer);
      n.count++;
      let value: unknown;
      try {
        value = payload.length ? JSON.parse(dec.decode(payload)) : null;
      } catch {
        value = dec.decode(payload);
      }
      n.last = { name: ctx.name, value };
      onNotification?.(ctx.name, value);
    });
}
