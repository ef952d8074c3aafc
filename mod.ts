// This module is browser compatible.

/**
 * Gotalk for TypeScript: the [Gotalk](https://github.com/rsms/gotalk) v1 protocol for Deno,
 * Bun, Node and browsers. Both ends of a connection serve and send requests (JSON, raw bytes or
 * streams) and notifications, over any pair of Web byte streams.
 *
 * This entry point is the session API, runtime-neutral: {@linkcode Peer} (one end of a
 * connection), {@linkcode Handlers} (what it serves), {@linkcode Server} (a peer per accepted
 * connection), {@linkcode ReconnectingPeer}, the in-memory {@linkcode pipePair}, and the errors
 * callers catch. Network transports live in their own entry points: `@gotalk/gotalk/deno`,
 * `@gotalk/gotalk/bun`, `@gotalk/gotalk/node`, `@gotalk/gotalk/websocket` (and a server per
 * runtime); the wire codec is `@gotalk/gotalk/protocol`.
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

export { ProtocolError, ProtocolErrorCode } from "./src/protocol/mod.ts";
export type { ProtocolErrorCodeValue, ProtocolErrorOptions } from "./src/protocol/mod.ts";
export {
  ConnectionClosedError,
  PayloadTooLargeError,
  RemoteError,
  RetryLimitError,
  StreamOverflowError,
} from "./src/peer/errors.ts";
export type { PayloadKind } from "./src/peer/errors.ts";
export { Handlers } from "./src/peer/handlers.ts";
export type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
  StreamHandler,
} from "./src/peer/handlers.ts";
export type { HandlerErrorInfo, Logger, PeerOptions } from "./src/peer/options.ts";
export { Peer } from "./src/peer/peer.ts";
export { ReconnectingPeer } from "./src/peer/reconnecting.ts";
export type { ReconnectingPeerOptions } from "./src/peer/reconnecting.ts";
export type {
  CloseOptions,
  Heartbeat,
  RequestOptions,
  Session,
  StreamRequest,
} from "./src/peer/session.ts";
export type { Transport } from "./src/peer/transport.ts";
export { pipePair } from "./src/transports/pipe.ts";
export type { PipeOptions } from "./src/transports/pipe.ts";
export { Server } from "./src/server/server.ts";
export type { ServerOptions } from "./src/server/server.ts";
export type { ListenAddr, Listener } from "./src/peer/transport.ts";
