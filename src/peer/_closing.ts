// This module is browser compatible.
// Closing a peer, once: why it closed (a normal close, a ProtocolError sent or received, a
// transport that failed), failing the outgoing and incoming tables, and releasing the transport.

import { ProtocolError } from "../protocol/mod.ts";
import { ConnectionClosedError, WriteStallError } from "./errors.ts";
import type { ChunkReader } from "./_direct.ts";
import type { IncomingRequests } from "./_incoming.ts";
import type { Liveness } from "./_liveness.ts";
import type { OutgoingRequests } from "./_outgoing.ts";
import type { PeerState } from "./_state.ts";
import type { Logger } from "./options.ts";
import type { Transport } from "./transport.ts";
import type { FrameWriter } from "./_writer.ts";

/** How long the read side may still run after a write failed (see `writeFailed`). */
const WRITE_FAILURE_GRACE_MS = 250;

/** What each ProtocolError code means, for messages. */
const CODE_MEANINGS: Record<number, string> = {
  0: "an abnormal condition",
  1: "it does not support our protocol version",
  2: "we sent an invalid message, or a payload over its maxPayloadBytes",
  3: "we took too long (a handshake, or silence past its read timeout)",
};

/** The parts a close tears down. */
export interface ClosingParts {
  readonly state: PeerState;
  readonly liveness: Liveness;
  /** Aborted on close: every handler's `context.signal` (each request has its own). */
  readonly abort: { abort(reason: unknown): void };
  readonly outgoing: OutgoingRequests;
  readonly incoming: IncomingRequests;
  readonly writer: FrameWriter;
  readonly reader: ChunkReader;
  readonly transport: Transport;
  /** Where protocol errors, sent or received, are logged. */
  readonly logger: Logger | undefined;
}

/** Closes a peer once, for the first reason that comes. */
export class Closing {
  readonly #parts: ClosingParts;
  /** Set when a write failed: the close that follows, once the read side had its grace. */
  #writeFailure: { error: ConnectionClosedError; timer: ReturnType<typeof setTimeout> } | undefined;

  constructor(parts: ClosingParts) {
    this.#parts = parts;
  }

  /**
   * A write failed. A remote that closes after sending a ProtocolError (such as `f00000002` for
   * a payload over its limit) fails our writes before we read its frame: read on for a short
   * grace so that the close says why, then close with the write error.
   */
  writeFailed(cause: unknown): void {
    if (this.#parts.state.closed || this.#writeFailure) return;
    const error = new ConnectionClosedError("Writing to the connection failed", { cause });
    const timer = setTimeout(() => this.finish(error, false), WRITE_FAILURE_GRACE_MS);
    this.#writeFailure = { error, timer };
  }

  /** The remote read nothing for `writeStallTimeoutMs`: close at once (nothing can flush). */
  writeStalled(o: { readonly writeStallTimeoutMs: number }): void {
    const p = this.#parts;
    if (p.state.closed) return;
    const error = new WriteStallError(o.writeStallTimeoutMs);
    const addr = p.transport.remoteAddr;
    p.logger?.warn(`gotalk: ${error.message}${addr ? ` (remote ${addr})` : ""}`);
    this.finish(error, false);
  }

  /** The read loop ended: the remote closed (`e` undefined), or the input failed. */
  inputEnded(e: unknown): void {
    if (e instanceof ProtocolError) {
      this.protocolFailure(e);
    } else if (this.#writeFailure) {
      this.finish(this.#writeFailure.error, false);
    } else if (e !== undefined) {
      const error = new ConnectionClosedError("Reading from the connection failed", { cause: e });
      this.finish(error, false);
    } else {
      const open = this.#parts.state.open;
      this.finish(
        open ? new ConnectionClosedError("The remote closed the connection") : undefined,
        false,
      );
    }
  }

  /** The remote sent a ProtocolError frame (it closes the connection after it). */
  remoteFailed(code: number): void {
    const meaning = CODE_MEANINGS[code];
    const text = `The remote reported a protocol error (code ${code}` +
      (meaning ? `: ${meaning})` : ")");
    const error = new ProtocolError(text, { code, remote: true });
    this.#log(error);
    this.finish(error, false);
  }

  /** Logs a protocol error (sent or received) in one line naming its code. */
  #log(error: ProtocolError): void {
    const p = this.#parts;
    if (!p.logger || p.state.closed) return;
    const addr = p.transport.remoteAddr;
    const where = addr ? ` (remote ${addr})` : "";
    const what = error.remote ? "received" : "sent";
    p.logger.warn(`gotalk: protocol error ${error.code} ${what}${where}: ${error.message}`);
  }

  /** Sends a ProtocolError to the remote, then closes. */
  protocolFailure(error: ProtocolError): void {
    if (this.#parts.state.closed) return;
    this.#log(error);
    this.#parts.writer.send({ type: "f", code: error.code });
    this.finish(error, true);
  }

  /**
   * Closes the connection once: stops liveness, fails the outgoing and incoming tables, then
   * flushes and closes the writer (`flush`) or aborts it, cancels the reader and closes the
   * transport.
   */
  finish(error: Error | undefined, flush: boolean, reason: unknown = error): void {
    const p = this.#parts;
    const closedError = p.state.close(error, reason);
    if (closedError === undefined) return;
    if (this.#writeFailure) clearTimeout(this.#writeFailure.timer);
    p.liveness.stop();
    p.abort.abort(reason ?? new ConnectionClosedError());
    p.outgoing.failAll(closedError);
    p.incoming.failAll(closedError);
    this.#shutdown(flush, reason).finally(() => p.state.released());
  }

  async #shutdown(flush: boolean, reason: unknown): Promise<void> {
    const p = this.#parts;
    if (flush) await p.writer.closeWithin(2000, reason);
    else p.writer.abort(reason);
    await p.reader.cancel(reason).catch(() => {});
    try {
      p.transport.close();
    } catch { /* close must not throw; ignore a transport that does */ }
  }
}
