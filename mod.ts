// This module is browser compatible.

/**
 * Gotalk for TypeScript: the [Gotalk](https://github.com/rsms/gotalk) v1 protocol for Deno,
 * Bun, Node and browsers. This entry point is the session API, runtime-neutral and safe in a
 * browser.
 *
 * A connection has a {@linkcode Peer} at each end; either end sends requests and notifications
 * and answers those it has {@linkcode Handlers} for. A {@linkcode Server} runs a `Peer` with your
 * handlers for every connection its listener accepts; a client wraps its connection in a `Peer`,
 * or uses {@linkcode ReconnectingPeer} to connect again after a drop. Connections come from each
 * runtime's entry point: `connect` and `listen` (TCP, TLS) in `@gotalk/gotalk/deno`, `/bun`,
 * `/node`; `connectWebSocket` in `@gotalk/gotalk/websocket` and `serveWebSocket` per runtime;
 * {@linkcode pipePair} in memory.
 *
 * Which call, which handler:
 *
 * - `peer.request(op, value)`, answered by `handlers.handle(op, fn)`: a JSON value in, one out.
 *   Most calls.
 * - `peer.bufferRequest(op, bytes)`, answered by `handlers.handleBuffer(op, fn)`: bytes in and
 *   out, for binary data or your own encoding.
 * - `peer.streamRequest(op)`, answered by `handlers.handleStream(op, fn)`: a request written in
 *   parts and a result read in parts, for data too big for one payload. Any handler may also
 *   return a `ReadableStream` of bytes as a streaming result.
 * - `peer.notify(name, value)` (`bufferNotify` for bytes), received by
 *   `handlers.handleNotification(name, fn)`: no answer, for events.
 *
 * A handler gets the request's context, whose `peer` is the requesting side: servers call their
 * clients back through it. The wire codec is `@gotalk/gotalk/protocol`.
 *
 * On the server side, a {@linkcode Topic} is a group of peers that get the same notifications
 * (encoded once), and a {@linkcode Hub} holds a server's topics, its peers by id and the ops it
 * offers to other servers, over a {@linkcode Backplane}: {@linkcode InProcessBackplane} in one
 * process, `NatsBackplane` (`@gotalk/gotalk/nats`) for a cluster of servers.
 *
 * @example Two peers over an in-memory pipe: a JSON request, bytes, a notification
 * ```ts
 * import { Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const handlers = new Handlers()
 *   .handle("greet", (name: string) => `Hello, ${name}`)
 *   .handleBuffer("reverse", (bytes) => bytes.slice().reverse())
 *   .handleNotification("log", (line: string) => void seen.push(line));
 * const [serverSide, clientSide] = pipePair();
 * const server = new Peer(serverSide, { handlers });
 * const client = new Peer(clientSide);
 * assert.equal(await client.request("greet", "Ada"), "Hello, Ada");
 * const reversed = await client.bufferRequest("reverse", new Uint8Array([1, 2, 3]));
 * assert.deepEqual(reversed, new Uint8Array([3, 2, 1]));
 * await client.notify("log", "bye");
 * await client.close();
 * await server.closed;
 * assert.deepEqual(seen, ["bye"]);
 * ```
 *
 * @module
 */

export { ProtocolError, ProtocolErrorCode } from "./src/protocol/mod.ts";
export type { ProtocolErrorCodeValue, ProtocolErrorOptions } from "./src/protocol/mod.ts";
export {
  ConnectError,
  ConnectionClosedError,
  PayloadTooLargeError,
  RemoteError,
  RetryLimitError,
  StreamOverflowError,
  WriteStallError,
} from "./src/peer/errors.ts";
export type { PayloadKind } from "./src/peer/errors.ts";
export { jsonCodec } from "./src/peer/codec.ts";
export type { ValueCodec } from "./src/peer/codec.ts";
export { defineContract } from "./src/peer/contract.ts";
export type {
  BufferNotificationName,
  BufferOp,
  BytesNotification,
  BytesOp,
  Contract,
  ContractNotifications,
  ContractOps,
  HandlerInput,
  HandlerOutput,
  JsonOp,
  NotificationInput,
  NotificationName,
  NotificationValue,
  OpInput,
  OpName,
  OpResult,
  ReceivedValue,
  SentValue,
  StreamOp,
  UntypedNotification,
  UntypedOp,
} from "./src/peer/contract.ts";
export { remote } from "./src/peer/remote.ts";
export type { Remote } from "./src/peer/remote.ts";
export type {
  InferSchemaInput,
  InferSchemaOutput,
  StandardSchemaIssue,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./src/peer/standard_schema.ts";
export { ResultValidationError, ValidationError } from "./src/peer/validation.ts";
export type { ValidationIssue } from "./src/peer/validation.ts";
export { Handlers } from "./src/peer/handlers.ts";
export type { HandlersOptions } from "./src/peer/handlers.ts";
export type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
  StreamHandler,
} from "./src/peer/handler_types.ts";
export type { HandlerErrorInfo, Logger, PeerOptions } from "./src/peer/options.ts";
export { RetryResult } from "./src/peer/middleware.ts";
export type {
  Interceptor,
  Middleware,
  MiddlewareContext,
  MiddlewareResult,
  OutgoingCall,
  RequestKind,
} from "./src/peer/middleware.ts";
export type { RequestEvent, RequestOutcome } from "./src/peer/telemetry.ts";
export { Peer } from "./src/peer/peer.ts";
export { ReconnectingPeer } from "./src/peer/reconnecting.ts";
export type { ReconnectingPeerOptions } from "./src/peer/reconnecting.ts";
export type {
  CloseOptions,
  Heartbeat,
  NotifyArgs,
  RequestArgs,
  RequestOptions,
  Session,
  StreamOptions,
  StreamRequest,
} from "./src/peer/session.ts";
export type { Transport } from "./src/peer/transport.ts";
export { pipePair } from "./src/transports/pipe.ts";
export type { PipeOptions } from "./src/transports/pipe.ts";
export { ConnectionRefused, refuse, Server } from "./src/server/server.ts";
export { Hub } from "./src/server/hub.ts";
export type { HubOptions } from "./src/server/hub.ts";
export { SlowMemberError, Topic } from "./src/server/topic.ts";
export type { SlowMemberPolicy, TopicOptions, TopicStats } from "./src/server/topic.ts";
export { BackplanePayloadTooLargeError, NoRespondersError } from "./src/server/backplane.ts";
export type {
  Backplane,
  BackplaneRequestOptions,
  BackplaneResponder,
  BackplaneSubscription,
} from "./src/server/backplane.ts";
export { InProcessBackplane } from "./src/server/in_process_backplane.ts";
export type { InProcessBackplaneOptions } from "./src/server/in_process_backplane.ts";
export type { ServerOptions } from "./src/server/server.ts";
export type {
  ConnectionGate,
  ConnectionInfo,
  ConnectionVerdict,
  ListenAddr,
  Listener,
} from "./src/peer/transport.ts";
