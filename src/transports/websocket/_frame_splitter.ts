// This module is browser compatible.

/**
 * Re-splits an outgoing Gotalk byte stream at frame boundaries, for the WebSocket transports:
 * gotalk.js reads each WebSocket message as exactly one header and the next one as that header's
 * whole payload, so the handshake, every header and every non-empty payload must each travel as
 * one message. Internal: not part of the public API.
 *
 * @module
 */

import { headerLength, payloadSize } from "../../protocol/_frame.ts";

// Splitter states.
/** Waiting for the two handshake digits. */
const HANDSHAKE = 0;
/** Between frames, or inside a header kept in the scratch buffer. */
const HEADER = 1;
/** Inside a payload. */
const PAYLOAD = 2;
/** The bytes stopped looking like Gotalk frames: everything is passed on as it comes. */
const PASSTHROUGH = 3;

/**
 * An incremental, synchronous splitter: {@linkcode FrameSplitter.push} takes chunks of an
 * outgoing Gotalk byte stream (the handshake, then frames, cut anywhere) and emits the segments to
 * send as WebSocket messages, in order: the handshake, then each header and each non-empty
 * payload.
 *
 * A segment that lies within one chunk is emitted as a `subarray` view of it; a header split
 * across chunks is reassembled into a copy, and a payload split across chunks is collected and
 * emitted as one copy once complete (its pieces are only kept, never preallocated from the
 * declared size). Bytes that are not a well-formed frame start (an unknown type byte, a non-hex
 * digit) switch the splitter to pass-through: that byte and everything after it are emitted as
 * they arrive, so that the remote sees them and answers with a protocol error.
 */
export class FrameSplitter {
  #state = HANDSHAKE;
  /** A header (or handshake) that spans chunks. */
  #head = new Uint8Array(0);
  #headLength = 0;
  /** The pieces of a payload that spans chunks, and how many bytes are still missing. */
  #pieces: Uint8Array[] = [];
  #remaining = 0;

  /** Bytes held back because their segment is not complete yet. */
  get pending(): number {
    if (this.#state === PAYLOAD) return this.#pieces.reduce((n, p) => n + p.byteLength, 0);
    return this.#headLength;
  }

  /** Whether the splitter gave up on framing and now passes bytes through as they come. */
  get passthrough(): boolean {
    return this.#state === PASSTHROUGH;
  }

  /**
   * Splits `chunk`, calling `emit` for every complete segment in order.
   *
   * @param chunk The next bytes of the stream. Views of it may be emitted, so it must not be
   * modified afterwards.
   * @param emit Receives each segment.
   */
  push(chunk: Uint8Array, emit: (segment: Uint8Array) => void): void {
    let pos = 0;
    const end = chunk.byteLength;
    while (pos < end) {
      switch (this.#state) {
        case PASSTHROUGH:
          emit(pos === 0 ? chunk : chunk.subarray(pos));
          return;
        case PAYLOAD: {
          const take = Math.min(this.#remaining, end - pos);
          this.#remaining -= take;
          if (this.#remaining === 0 && this.#pieces.length === 0) {
            emit(chunk.subarray(pos, pos + take));
          } else {
            this.#pieces.push(chunk.subarray(pos, pos + take));
            if (this.#remaining === 0) emit(this.#joinPieces());
          }
          pos += take;
          if (this.#remaining === 0) this.#state = HEADER;
          break;
        }
        case HANDSHAKE:
          // Two digits, whatever their value: the remote judges the version.
          if (this.#headLength === 0 && end - pos >= 2) {
            emit(chunk.subarray(pos, pos + 2));
            pos += 2;
            this.#state = HEADER;
          } else {
            this.#hold(chunk[pos++]);
            if (this.#headLength === 2) {
              emit(this.#takeHead());
              this.#state = HEADER;
            }
          }
          break;
        default:
          pos = this.#header(chunk, pos, emit);
      }
    }
  }

  /** Reads a header starting (or continuing) at `chunk[pos]`; returns the position after. */
  #header(chunk: Uint8Array, pos: number, emit: (segment: Uint8Array) => void): number {
    const end = chunk.byteLength;
    if (this.#headLength === 0) {
      // Fast path: the whole header is in this chunk.
      const length = headerLength(chunk, pos, end - pos);
      if (length === 0) return this.#giveUp(chunk, pos, emit);
      if (length > 0 && pos + length <= end) {
        this.#emitHeader(chunk.subarray(pos, pos + length), emit);
        return pos + length;
      }
    }
    // Slow path: collect the header byte by byte in the scratch buffer.
    while (pos < end) {
      this.#hold(chunk[pos++]);
      const length = headerLength(this.#head, 0, this.#headLength);
      if (length === 0) {
        const held = this.#takeHead();
        this.#state = PASSTHROUGH;
        emit(held);
        return pos;
      }
      if (length > 0 && this.#headLength === length) {
        this.#emitHeader(this.#takeHead(), emit);
        return pos;
      }
    }
    return pos;
  }

  #emitHeader(header: Uint8Array, emit: (segment: Uint8Array) => void): void {
    emit(header);
    const size = payloadSize(header, 0, header.byteLength);
    if (size === -1) {
      // A malformed size: pass it on with its header and everything after; the remote refuses it.
      this.#state = PASSTHROUGH;
    } else if (size > 0) {
      this.#state = PAYLOAD;
      this.#remaining = size;
    }
  }

  #giveUp(chunk: Uint8Array, pos: number, emit: (segment: Uint8Array) => void): number {
    this.#state = PASSTHROUGH;
    emit(pos === 0 ? chunk : chunk.subarray(pos));
    return chunk.byteLength;
  }

  #hold(byte: number): void {
    if (this.#headLength === this.#head.length) {
      const grown = new Uint8Array(Math.max(32, this.#head.length * 2));
      grown.set(this.#head);
      this.#head = grown;
    }
    this.#head[this.#headLength++] = byte;
  }

  #takeHead(): Uint8Array {
    const out = this.#head.slice(0, this.#headLength);
    this.#headLength = 0;
    if (this.#head.length > 64) this.#head = new Uint8Array(0);
    return out;
  }

  #joinPieces(): Uint8Array {
    const pieces = this.#pieces;
    this.#pieces = [];
    const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}
