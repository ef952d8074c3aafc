/**
 * Time limits of the `node:http` + `ws` WebSocket server, where its defaults are too lax for
 * an exposed server: a connection that has not sent its whole request head within
 * {@linkcode UPGRADE_TIMEOUT_MS} is dropped (Node's own `headersTimeout` is 60 s, checked every
 * 30 s, and Deno's `node:http` has none), and a peer that does not answer our close frame within
 * {@linkcode CLOSE_GRACE_MS} is dropped (`ws` waits 30 s). Internal: not part of the public API.
 *
 * @module
 */

/** How long a new connection has to send its request head (an upgrade, say), in ms. */
export const UPGRADE_TIMEOUT_MS = 10_000;
/** How long a peer has to answer our close frame before its connection is dropped, in ms. */
export const CLOSE_GRACE_MS = 5_000;

/** The part of a socket used. */
interface SocketLike {
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

const heads = new WeakMap<SocketLike, ReturnType<typeof setTimeout>>();

/** Starts the request-head clock of a new connection (the server's `'connection'` event). */
export function awaitHead(socket: SocketLike): void {
  const timer = setTimeout(() => socket.destroy(), UPGRADE_TIMEOUT_MS);
  heads.set(socket, timer);
  socket.once("close", () => clearTimeout(timer));
}

/** The connection's request head arrived (a `'request'` or `'upgrade'`): stops its clock. */
export function headArrived(socket: SocketLike): void {
  clearTimeout(heads.get(socket));
  heads.delete(socket);
}

/** The part of `ws`'s WebSocket used. */
export interface WsLike {
  close(code?: number, reason?: string): void;
  terminate(): void;
  once(event: "close", listener: () => void): unknown;
}

/**
 * Makes `ws.close()` drop the connection if the peer has not answered within
 * {@linkcode CLOSE_GRACE_MS}.
 */
export function closeWithGrace<T extends WsLike>(ws: T): T {
  const close = ws.close.bind(ws);
  let timer: ReturnType<typeof setTimeout> | undefined;
  ws.once("close", () => clearTimeout(timer));
  ws.close = (code?: number, reason?: string) => {
    close(code, reason);
    timer ??= setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
  };
  return ws;
}
