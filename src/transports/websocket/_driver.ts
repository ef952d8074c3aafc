// This module is browser compatible.
// The one WebSocket a connection drives, whatever its API (the standard one, the `ws` package's,
// Bun's server sockets): its own part, so that the connection and the `ws` package's driver
// both see it without seeing each other.

/** What a WebSocket connection drives: one WebSocket, whatever its API. */
export interface WebSocketDriver {
  /** Sends one binary message; throws if the socket cannot take it. */
  send(data: Uint8Array): void;
  /** Bytes accepted by `send` and not yet handed to the network. */
  bufferedAmount(): number;
  /** Starts the closing handshake (it may throw if the socket is already closed). */
  close(code: number, reason: string): void;
  /** Stops delivering messages for a while, where the socket supports it. */
  pause?(): void;
  /** Delivers messages again. */
  resume?(): void;
  /**
   * Runs `sends` (several `send` calls) so that their messages leave together, in one write,
   * where the socket can hold its writes back (Bun's `cork`; the `ws` package's driver batches
   * every send of a task by itself).
   */
  batch?(sends: () => void): void;
}
