/**
 * The raw TCP dialer: `tcp://HOST:PORT` over `node:net` (Deno, Bun and Node), every send its own
 * write.
 *
 * @module
 */

import * as net from "node:net";
import type { ByteTransport, CloseInfo, TransportEvents } from "./transport.ts";

/**
 * Dials a `tcp://HOST:PORT` URL with `node:net` (works on Deno, Bun and Node), with Nagle off so
 * that every send is its own segment.
 *
 * @param url The `tcp:` URL.
 * @param events Where data and close events go.
 * @param timeoutMs How long the connect may take.
 * @returns The transport, once connected.
 * @throws {Error} If the connection fails or takes longer than `timeoutMs`.
 */
export function dialTcp(
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
): Promise<ByteTransport> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let connected = false;
    let closed = false;
    const close = (info: Omit<CloseInfo, "at">): void => {
      if (closed) return;
      closed = true;
      events.closed({ ...info, at: performance.now() });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Connecting to ${url.host} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      connected = true;
      clearTimeout(timer);
      resolve({
        kind: "tcp",
        send: (bytes) =>
          new Promise((res, rej) => {
            if (closed || socket.destroyed) {
              rej(new Error("The connection is closed"));
              return;
            }
            socket.write(bytes, (e) => (e ? rej(e) : res()));
          }),
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
    socket.on("data", (chunk: Uint8Array) => events.data(new Uint8Array(chunk)));
    socket.on("end", () => close({ kind: "end" }));
    socket.on("error", (e: Error & { code?: string }) => {
      if (!connected) {
        clearTimeout(timer);
        reject(e);
        return;
      }
      close(
        e.code === "ECONNRESET" ? { kind: "reset", detail: e.message } : {
          kind: "error",
          detail: e.message,
        },
      );
    });
    socket.on("close", () => close({ kind: "end" }));
  });
}
