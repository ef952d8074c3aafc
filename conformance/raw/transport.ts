/**
 * The seam between the conformance driver's raw connections and the transports under them: a
 * dialer (`tcp.ts`, `ws_client.ts`) opens a {@linkcode ByteTransport} and reports what arrives
 * through {@linkcode TransportEvents}; `RawConn` (`conn.ts`) provides those events and keeps the
 * log that reads run over.
 *
 * @module
 */

/** A WebSocket close frame. */
export interface WsCloseFrame {
  /** The status code, or `undefined` for a close frame without one (1005). */
  code: number | undefined;
  /** The reason text. */
  reason: string;
}

/** How a connection ended, as seen by the driver. */
export interface CloseInfo {
  /**
   * `end`: orderly close (TCP FIN, or a WebSocket close frame); `reset`: ECONNRESET; `error`:
   * any other socket error (or a WebSocket protocol violation by the server).
   */
  kind: "end" | "reset" | "error";
  /** The error text, for `reset` and `error`. */
  detail?: string;
  /** `performance.now()` when the close was seen. */
  at: number;
  /** WebSocket only: the server's close frame, if it sent one before the connection ended. */
  wsClose?: WsCloseFrame;
}

/** What one received WebSocket message was. */
export interface WsMessageInfo {
  /** A binary message (opcode 2), or a text message (opcode 1). */
  binary: boolean;
}

/** Callbacks a transport calls; `RawConn` provides them. */
export interface TransportEvents {
  /**
   * Bytes arrived. The transport hands over a buffer it will not reuse. A WebSocket transport
   * calls this once per message, with `message` set.
   */
  data(chunk: Uint8Array, message?: WsMessageInfo): void;
  /** The connection ended (called at most once). */
  closed(info: CloseInfo): void;
}

/**
 * A raw byte transport. TCP writes bytes as they are given; a WebSocket transport sends one
 * binary message per {@linkcode ByteTransport.send} call, so a catalogue step's "send" maps to
 * one write or one WebSocket message.
 */
export interface ByteTransport {
  /** `tcp` or `ws`. */
  readonly kind: "tcp" | "ws";
  /** Sends one chunk: one TCP write, or one binary WebSocket message. */
  send(bytes: Uint8Array): Promise<void>;
  /** WebSocket only: sends one text message (the bytes as they are). */
  sendText?(bytes: Uint8Array): Promise<void>;
  /** WebSocket only: sends a close frame (no code when `code` is undefined); reading goes on. */
  sendClose?(code: number | undefined, reason?: string): Promise<void>;
  /** Closes the sending side (TCP FIN, or a WebSocket close frame 1000); reading continues. */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
}

/** How to dial. */
export interface DialOptions {
  /**
   * WebSocket only: the `Origin` header, or `null` to send none.
   *
   * @default {"http://HOST:PORT" of the URL}
   */
  origin?: string | null;
}

/** Opens a {@linkcode ByteTransport} to `url`, delivering events to `events`. */
export type Dialer = (
  url: URL,
  events: TransportEvents,
  timeoutMs: number,
  options?: DialOptions,
) => Promise<ByteTransport>;
