// This module is browser compatible.

/**
 * Gotalk for TypeScript: the [Gotalk](https://github.com/rsms/gotalk) v1 protocol for Deno,
 * Bun, Node and browsers. Both ends of a connection serve and send requests (JSON, raw bytes or
 * streams) and notifications, over any pair of Web byte streams.
 *
 * This entry point is runtime-neutral. Network transports live in their own entry points:
 * `@gotalk/gotalk/deno`, `@gotalk/gotalk/bun`, `@gotalk/gotalk/node`; the wire codec alone is
 * `@gotalk/gotalk/protocol`.
 *
 * @example Two peers over an in-memory pipe
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const [serverSide, clientSide] = pipePair();
 * const handlers = new Handlers().handle("greet", (name: string) => `Hello, ${name}`);
 * const server = new Peer(serverSide, { handlers });
 * const client = new Peer(clientSide);
 * assert.equal(await client.request("greet", "Ada"), "Hello, Ada");
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodedHeaderLength,
  encodedMessageLength,
  encodeHandshake,
  encodeHeader,
  encodeHeaderInto,
  encodeMessage,
  encodeMessageInto,
  MAX_NAME_BYTES,
  MAX_WIRE_PAYLOAD_BYTES,
  MessageDecoder,
  MessageDecoderStream,
  MessageEncoderStream,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  ProtocolErrorCode,
  requestIdFromBytes,
  requestIdToBytes,
} from "./src/protocol/mod.ts";
export type {
  HandshakeMessage,
  HeartbeatMessage,
  Message,
  MessageDecoderOptions,
  MessageEncoderStreamOptions,
  MessageTypeCode,
  NotificationMessage,
  PayloadMessage,
  ProtocolErrorCodeValue,
  ProtocolErrorMessage,
  ProtocolErrorOptions,
  RequestId,
  RequestMessage,
  RetryMessage,
} from "./src/protocol/mod.ts";
export {
  ConnectionClosedError,
  RemoteError,
  RetryLimitError,
  StreamOverflowError,
} from "./src/peer/errors.ts";
export { Handlers } from "./src/peer/handlers.ts";
export type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
  RequestHandlerEntry,
  StreamHandler,
} from "./src/peer/handlers.ts";
export { Peer } from "./src/peer/peer.ts";
export { ReconnectingPeer } from "./src/peer/reconnecting.ts";
export type { ReconnectingPeerOptions } from "./src/peer/reconnecting.ts";
export type {
  CloseOptions,
  Heartbeat,
  PeerOptions,
  RequestOptions,
  StreamRequest,
} from "./src/peer/peer.ts";
export type { Transport } from "./src/peer/transport.ts";
export { pipePair } from "./src/transports/pipe.ts";
export type { PipeOptions } from "./src/transports/pipe.ts";
export { Server } from "./src/server/server.ts";
export type { ServerOptions } from "./src/server/server.ts";
export type { ListenAddr, Listener } from "./src/peer/transport.ts";
