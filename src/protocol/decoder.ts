// This module is browser compatible.

import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_NAME_BYTES,
  MAX_WIRE_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  ProtocolErrorCode,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import type { Message } from "./message.ts";
import type { MessageDecoderOptions } from "./_decoder_options.ts";
import { headerLength } from "./_frame.ts";
import { payloadMessage } from "./_payload_message.ts";
import { checkUint, HEX_VALUE } from "./_util.ts";

export type { MessageDecoderOptions };

/** The longest header: `r`, id, name length, a 4095-byte name, size. */
const MAX_HEADER_BYTES = 1 + 4 + 3 + MAX_NAME_BYTES + 8;
/** The first size of the scratch buffer: any header with a name of up to 48 bytes. */
const SCRATCH_BYTES = 64;

// Decoder states.
/** Waiting for the two handshake digits. */
const VERSION = 0;
/** Between frames, or inside a header kept in the scratch buffer. */
const HEADER = 1;
/** Inside a payload that spans chunks. */
const PAYLOAD = 2;
/** An error was thrown; every later call throws it again. */
const FAILED = 3;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? JSON.stringify(String.fromCharCode(byte))
    : `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * An incremental Gotalk v1 decoder: a push state machine fed arbitrary chunks of a byte stream,
 * emitting each complete message as soon as its last byte arrives. It never awaits and keeps
 * only the unfinished tail of the stream.
 *
 * Hex fields are parsed strictly (`0-9a-fA-F`, either case; `+`, `-`, spaces and partial digits
 * are errors) and every length is checked against its limit before anything is allocated.
 * Errors are {@linkcode ProtocolError}s carrying a code (2 invalid message, 1 unsupported
 * version) and the absolute byte offset of the problem; after one, the decoder throws it again
 * on every call.
 *
 * Payload ownership: a payload that lies entirely inside one pushed chunk (its header may have
 * come in an earlier one) is emitted as a `subarray` view of that chunk (no copy); a payload
 * spanning chunks is copied once into a buffer of exactly its size. Transports must therefore hand over chunks they will not reuse,
 * and consumers that keep a payload past the next chunk of a reused buffer must copy it.
 *
 * @example Decoding a stream in two pieces
 * ```ts
 * import { type Message, MessageDecoder } from "@gotalk/gotalk/protocol";
 * import assert from "node:assert/strict";
 *
 * const decoder = new MessageDecoder({ handshake: true });
 * const out: Message[] = [];
 * const bytes = new TextEncoder().encode("01r0001005hello00000005world");
 * decoder.push(bytes.subarray(0, 10), (m) => out.push(m));
 * decoder.push(bytes.subarray(10), (m) => out.push(m));
 * decoder.end();
 * assert.equal(out.length, 2);
 * assert.equal(out[0].type, "handshake");
 * assert.equal(out[1].type === "r" && out[1].name, "hello");
 * ```
 */
export class MessageDecoder {
  readonly #maxPayload: number;
  readonly #maxName: number;
  #state: number;
  #error: ProtocolError | undefined;
  /** Absolute stream offset of the first byte of the chunk being pushed. */
  #base = 0;
  /** Partial header (or handshake) bytes carried over from earlier chunks; made on first use. */
  #scratchBuf: Uint8Array | undefined;
  #scratchLen = 0;
  /** Absolute offset of the first byte in #scratch. */
  #scratchStart = 0;
  // The header being decoded, held until its payload is complete.
  #type = 0;
  #id = 0;
  #name = "";
  #wait = 0;
  /** The size of the payload in progress; its buffer is made once a chunk holds only part of it. */
  #size = 0;
  #payload: Uint8Array | null = null;
  #payloadPos = 0;
  /** The last ASCII name decoded (see #decodeName). */
  #lastName = "";

  /**
   * Creates a decoder.
   *
   * @param options Limits, and whether a handshake comes first.
   * @throws {RangeError} If a limit is not a non-negative integer in range.
   */
  constructor(options?: MessageDecoderOptions) {
    const maxPayload = options?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const maxName = options?.maxNameBytes ?? MAX_NAME_BYTES;
    checkUint(maxPayload, MAX_WIRE_PAYLOAD_BYTES, "maxPayloadBytes");
    checkUint(maxName, MAX_NAME_BYTES, "maxNameBytes");
    this.#maxPayload = maxPayload;
    this.#maxName = maxName;
    this.#state = options?.handshake ? VERSION : HEADER;
    const offset = options?.offset ?? 0;
    checkUint(offset, Number.MAX_SAFE_INTEGER, "offset");
    this.#base = offset;
  }

  /**
   * The number of bytes consumed so far (the absolute offset of the next byte).
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder } from "@gotalk/gotalk/protocol";
   * import assert from "node:assert/strict";
   *
   * const d = new MessageDecoder();
   * d.push(new TextEncoder().encode("f00000001f0"), () => {});
   * assert.equal(d.offset, 11);
   * ```
   */
  get offset(): number {
    return this.#base;
  }

  /**
   * Whether the decoder holds an unfinished frame (or handshake).
   *
   * @returns `true` while inside a frame.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder } from "@gotalk/gotalk/protocol";
   * import assert from "node:assert/strict";
   *
   * const d = new MessageDecoder();
   * d.push(new TextEncoder().encode("f0000"), () => {});
   * assert.equal(d.partial, true);
   * ```
   */
  get partial(): boolean {
    return this.#scratchLen > 0 || this.#state === PAYLOAD;
  }

  /**
   * Feeds the next chunk of the stream, calling `emit` for each message it completes, in order.
   * Messages completed before an error in the same chunk are emitted before the error is thrown.
   *
   * @param chunk The next bytes of the stream.
   * @param emit Called synchronously with each complete message.
   * @throws {ProtocolError} On invalid input or a limit exceeded (and on every call after that).
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder } from "@gotalk/gotalk/protocol";
   * import assert from "node:assert/strict";
   *
   * const d = new MessageDecoder();
   * const types: string[] = [];
   * d.push(new TextEncoder().encode("h00010000002af00000000"), (m) => types.push(m.type));
   * assert.deepEqual(types, ["h", "f"]);
   * ```
   */
  push(chunk: Uint8Array, emit: (message: Message) => void): void {
    if (this.#state === FAILED) throw this.#error!;
    try {
      this.#push(chunk, emit);
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.#state = FAILED;
        this.#error = e;
      }
      throw e;
    }
    this.#base += chunk.length;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {ProtocolError} With code 2 if the stream ended inside a frame or the handshake.
   *
   * @example Usage
   * ```ts
   * import { MessageDecoder, ProtocolError } from "@gotalk/gotalk/protocol";
   * import assert from "node:assert/strict";
   *
   * const d = new MessageDecoder();
   * d.push(new TextEncoder().encode("R0001"), () => {});
   * assert.throws(() => d.end(), ProtocolError);
   * ```
   */
  end(): void {
    if (this.#state === FAILED) throw this.#error!;
    if (this.partial) {
      this.#fail("The stream ended inside a message", this.#base);
    }
  }

  /**
   * The scratch buffer, with room for at least `size` bytes (at most the longest header). It
   * starts small, since most connections never split a long header, and keeps its contents when
   * it grows.
   */
  #scratch(size: number): Uint8Array {
    const buf = this.#scratchBuf;
    if (buf !== undefined && buf.length >= size) return buf;
    const grown = new Uint8Array(
      Math.min(MAX_HEADER_BYTES, Math.max(size, SCRATCH_BYTES, (buf?.length ?? 0) * 2)),
    );
    if (buf !== undefined) grown.set(buf.subarray(0, this.#scratchLen));
    return this.#scratchBuf = grown;
  }

  #fail(message: string, offset: number, code: number = ProtocolErrorCode.InvalidMessage): never {
    const error = new ProtocolError(`${message} (at byte ${offset})`, { code, offset });
    this.#state = FAILED;
    this.#error = error;
    throw error;
  }

  /**
   * Decodes a name. An ASCII name is remembered, and returned again (the same string, no
   * allocation) while the next names have the same bytes: a connection mostly repeats a few.
   */
  #decodeName(b: Uint8Array, start: number, end: number): string {
    const n = end - start;
    const last = this.#lastName;
    if (last.length === n) {
      let i = 0;
      while (i < n && b[start + i] === last.charCodeAt(i)) i++;
      if (i === n) return last;
    }
    for (let i = start; i < end; i++) {
      if (b[i] > 0x7f) return utf8.decode(b.subarray(start, end));
    }
    let name = "";
    if (n <= 16) {
      for (let i = start; i < end; i++) name += String.fromCharCode(b[i]);
    } else {
      name = latin1.decode(b.subarray(start, end));
    }
    // ASCII only: its bytes are its char codes, which is what the comparison above relies on.
    this.#lastName = name;
    return name;
  }

  #hex(b: Uint8Array, p: number, digits: number, abs: number, field: string): number {
    let v = 0;
    for (let i = 0; i < digits; i++) {
      const d = HEX_VALUE[b[p + i]];
      if (d < 0) {
        this.#fail(
          `Invalid hex digit ${describeByte(b[p + i])} in the ${field}`,
          abs + p + i,
        );
      }
      v = v * 16 + d;
    }
    return v;
  }

  /**
   * The header length of the frame at `b[p]` if it can be known from `avail` bytes (> 0), or
   * minus the number of bytes needed to know it. `abs` maps positions in `b` to stream offsets.
   * A bad name length digit is reported once the whole field has arrived.
   */
  #headerLength(b: Uint8Array, p: number, avail: number, abs: number): number {
    const hlen = headerLength(b, p, avail);
    if (hlen < 0) return hlen;
    const type = b[p];
    // The bytes of an `r`/`s`/`n` header besides its name; its name length digits end 11 before.
    const fixed = type === 0x72 || type === 0x73 ? 16 : type === 0x6e ? 12 : 0;
    if (hlen === 0) {
      if (fixed === 0) this.#fail(`Unknown message type ${describeByte(type)}`, abs + p);
      if (avail < fixed - 8) return 8 - fixed; // the digits so far are bad: report it once whole
      this.#hex(b, p + fixed - 11, 3, abs, "name length"); // throws at the bad digit
    }
    if (fixed !== 0 && hlen - fixed > this.#maxName) {
      this.#fail(
        `A name of ${hlen - fixed} bytes exceeds the limit of ${this.#maxName}`,
        abs + p + fixed - 11,
      );
    }
    return hlen;
  }

  /**
   * Parses a complete header at `b[p]` into the #fields and returns the payload size, or -1 for
   * messages without a payload (which it emits itself).
   */
  #parseHeader(
    b: Uint8Array,
    p: number,
    hlen: number,
    abs: number,
    emit: (message: Message) => void,
  ): number {
    const type = b[p];
    this.#type = type;
    let sizeAt: number;
    switch (type) {
      case 0x68: { // h
        const load = this.#hex(b, p + 1, 4, abs, "heartbeat load");
        const time = this.#hex(b, p + 5, 8, abs, "heartbeat time");
        emit({ type: "h", load, time });
        return -1;
      }
      case 0x66: { // f
        const code = this.#hex(b, p + 1, 8, abs, "protocol error code");
        emit({ type: "f", code });
        return -1;
      }
      case 0x72: // r
      case 0x73: // s
        this.#id = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        this.#name = this.#decodeName(b, p + 8, p + hlen - 8);
        sizeAt = p + hlen - 8;
        break;
      case 0x6e: // n
        this.#name = this.#decodeName(b, p + 4, p + hlen - 8);
        sizeAt = p + hlen - 8;
        break;
      case 0x65: // e
        this.#id = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        this.#wait = this.#hex(b, p + 5, 8, abs, "retry wait");
        sizeAt = p + 13;
        break;
      default: // p R S E
        this.#id = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        sizeAt = p + 5;
    }
    const size = this.#hex(b, sizeAt, 8, abs, "payload size");
    if (size > this.#maxPayload) {
      this.#fail(
        `A payload of ${size} bytes exceeds the limit of ${this.#maxPayload}`,
        abs + sizeAt,
      );
    }
    return size;
  }

  #emitPayload(payload: Uint8Array, emit: (message: Message) => void): void {
    emit(payloadMessage(this.#type, this.#id, this.#name, this.#wait, payload));
  }

  /** Starts the payload of the header just parsed, at `chunk[p]`; returns the new position. */
  #startPayload(
    size: number,
    chunk: Uint8Array,
    p: number,
    emit: (message: Message) => void,
  ): number {
    if (size < 0) return p; // h, f: already emitted
    const n = chunk.length;
    if (n - p >= size) {
      this.#emitPayload(chunk.subarray(p, p + size), emit);
      return p + size;
    }
    this.#state = PAYLOAD;
    this.#size = size;
    this.#payloadPos = 0;
    // None of it here (a header sent as a message of its own): the next chunk may hold it all.
    if (p < n) this.#payloadPos = this.#bufferPayload(chunk, p, n);
    return n;
  }

  /** Copies `chunk[p..n)` into a new buffer for the payload in progress; returns the count. */
  #bufferPayload(chunk: Uint8Array, p: number, n: number): number {
    const payload = this.#payload = new Uint8Array(this.#size);
    payload.set(chunk.subarray(p, n));
    return n - p;
  }

  #push(chunk: Uint8Array, emit: (message: Message) => void): void {
    const n = chunk.length;
    const base = this.#base;
    let p = 0;
    if (this.#state === VERSION) {
      let version: number;
      if (this.#scratchLen === 0 && n >= 2) {
        // The whole handshake in this chunk (the usual case): no scratch buffer for it.
        version = this.#hex(chunk, 0, 2, 0, "protocol version");
        p = 2;
      } else {
        const scratch = this.#scratch(2);
        while (this.#scratchLen < 2 && p < n) scratch[this.#scratchLen++] = chunk[p++];
        if (this.#scratchLen < 2) return;
        version = this.#hex(scratch, 0, 2, 0, "protocol version");
        this.#scratchLen = 0;
        // Most connections never split a header: a split handshake keeps no buffer for later.
        this.#scratchBuf = undefined;
      }
      if (version !== PROTOCOL_VERSION) {
        this.#fail(
          `Unsupported protocol version ${version}`,
          0,
          ProtocolErrorCode.UnsupportedProtocol,
        );
      }
      this.#state = HEADER;
      emit({ type: "handshake", version });
    }
    while (p < n) {
      if (this.#state === PAYLOAD) {
        const payload = this.#payload;
        if (payload === null) {
          const size = this.#size;
          if (n - p >= size) {
            this.#state = HEADER;
            this.#emitPayload(chunk.subarray(p, p + size), emit);
            p += size;
          } else p += this.#payloadPos = this.#bufferPayload(chunk, p, n);
          continue;
        }
        const take = Math.min(payload.length - this.#payloadPos, n - p);
        payload.set(chunk.subarray(p, p + take), this.#payloadPos);
        this.#payloadPos += take;
        p += take;
        if (this.#payloadPos === payload.length) {
          this.#payload = null;
          this.#state = HEADER;
          this.#emitPayload(payload, emit);
        }
        continue;
      }
      if (this.#scratchLen > 0) {
        // Complete the header carried over in #scratch.
        let scratch = this.#scratchBuf!;
        const abs = this.#scratchStart;
        let hlen = this.#headerLength(scratch, 0, this.#scratchLen, abs);
        while (hlen < 0 || this.#scratchLen < hlen) {
          const target = hlen < 0 ? -hlen : hlen;
          scratch = this.#scratch(target);
          const take = Math.min(target - this.#scratchLen, n - p);
          scratch.set(chunk.subarray(p, p + take), this.#scratchLen);
          this.#scratchLen += take;
          p += take;
          if (this.#scratchLen < target) return;
          hlen = this.#headerLength(scratch, 0, this.#scratchLen, abs);
        }
        this.#scratchLen = 0;
        const size = this.#parseHeader(scratch, 0, hlen, abs, emit);
        p = this.#startPayload(size, chunk, p, emit);
        continue;
      }
      const hlen = this.#headerLength(chunk, p, n - p, base);
      if (hlen < 0 || n - p < hlen) {
        this.#scratch(n - p).set(chunk.subarray(p, n));
        this.#scratchLen = n - p;
        this.#scratchStart = base + p;
        return;
      }
      const size = this.#parseHeader(chunk, p, hlen, base, emit);
      p = this.#startPayload(size, chunk, p + hlen, emit);
    }
  }
}
