// This module is browser compatible.
// A Server's `onConnect` hook: run before a connection's peer starts, by the listener before
// it accepts (WebSocket servers: before the upgrade) or by the server once it has.

import type { ConnectionInfo, ConnectionVerdict, Listener, Transport } from "../peer/transport.ts";

/** The data of a peer whose server has no `onConnect`: the `data` option stays. */
export const NO_DATA: unique symbol = Symbol("no data");

/**
 * A refused connection: returned or thrown by a `Server`'s `onConnect` (make one with
 * {@linkcode refuse}). A WebSocket server answers the upgrade request with its status and
 * message; a TCP or TLS connection is closed.
 *
 * @example Refusing by throwing
 * ```ts
 * import { ConnectionRefused, refuse } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const e = refuse(401, "Sign in first");
 * assert.ok(e instanceof ConnectionRefused);
 * assert.equal(e.status, 401);
 * assert.equal(e.message, "Sign in first");
 * ```
 */
export class ConnectionRefused extends Error {
  /** The HTTP status a WebSocket upgrade is answered with. */
  readonly status: number;

  /**
   * Creates a refusal (see {@linkcode refuse}).
   *
   * @param status An HTTP status from 400 to 599.
   * @param message The response's text.
   * @param options Standard error options.
   * @throws {RangeError} If `status` is not from 400 to 599.
   */
  constructor(status = 403, message = "Forbidden", options?: ErrorOptions) {
    super(message, options);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`status must be an HTTP error status (400 to 599), got ${status}`);
    }
    this.name = "ConnectionRefused";
    this.status = status;
  }
}

/**
 * A refusal for a `Server`'s `onConnect` to return or throw.
 *
 * @param status The HTTP status for a WebSocket upgrade: 401 (not signed in), 403 (not
 * allowed), 429, 503, …
 * @param message The response's text.
 * @returns The refusal.
 * @throws {RangeError} If `status` is not from 400 to 599.
 *
 * @example A WebSocket server that wants a name in the URL
 * ```ts
 * import { Handlers, Peer, refuse, Server } from "@gotalk/gotalk";
 * import { connectWebSocket, serveWebSocket } from "@gotalk/gotalk/websocket-deno";
 * import assert from "node:assert/strict";
 *
 * const server = new Server(await serveWebSocket({ port: 0 }), {
 *   handlers: new Handlers().handle("me", (_v, ctx) => ctx.data),
 *   onConnect: ({ request }) => {
 *     const name = new URL(request!.url).searchParams.get("name");
 *     return name ? { name } : refuse(401, "A name, please");
 *   },
 * });
 * const url = `ws://127.0.0.1:${server.addr.port}/gotalk/`;
 * await assert.rejects(connectWebSocket(url), /401/);
 * const client = new Peer(await connectWebSocket(`${url}?name=ada`));
 * assert.deepEqual(await client.request("me"), { name: "ada" });
 * await client.close();
 * await server.close();
 * ```
 */
export function refuse(status = 403, message?: string): ConnectionRefused {
  return new ConnectionRefused(status, message ?? (status === 401 ? "Unauthorized" : "Forbidden"));
}

/** What the server does with a connection. */
export type Admission = { accept: true; data: unknown } | { accept: false };

/** Runs `onConnect` for a server; installs itself as the listener's gate when it has one. */
export class ConnectGate {
  readonly #onConnect: (info: ConnectionInfo) => unknown;
  readonly #onError: (error: unknown) => void;
  readonly #kind: string;
  /** What the listener's gate accepted, by upgrade request, until the transport arrives. */
  readonly #admitted = new WeakMap<Request, unknown>();

  constructor(
    onConnect: (info: ConnectionInfo) => unknown,
    listener: Listener,
    onError: (error: unknown) => void,
  ) {
    if (typeof onConnect !== "function") throw new TypeError("onConnect must be a function");
    this.#onConnect = onConnect;
    this.#onError = onError;
    this.#kind = listener.kind ?? "unknown";
    if ("gate" in listener) {
      listener.gate = async (info) => {
        const [verdict, data] = await this.#decide(info);
        if (verdict.accept && info.request) this.#admitted.set(info.request, data);
        return verdict;
      };
    }
  }

  /** Whether to start a peer on `transport`, and its data (the gate's, or `onConnect`'s now). */
  async check(transport: Transport): Promise<Admission> {
    const request = transport.request;
    if (request !== undefined && this.#admitted.has(request)) {
      const data = this.#admitted.get(request);
      this.#admitted.delete(request);
      return { accept: true, data };
    }
    const info = { kind: this.#kind, remoteAddr: transport.remoteAddr, request };
    const [verdict, data] = await this.#decide(info);
    return verdict.accept ? { accept: true, data } : { accept: false };
  }

  async #decide(info: ConnectionInfo): Promise<[ConnectionVerdict, unknown]> {
    let result: unknown;
    try {
      result = await this.#onConnect(info);
    } catch (e) {
      result = e;
      if (!(e instanceof ConnectionRefused)) {
        this.#onError(e);
        return [{ accept: false, status: 500, message: "Internal Server Error" }, undefined];
      }
    }
    if (result instanceof ConnectionRefused) {
      return [{ accept: false, status: result.status, message: result.message }, undefined];
    }
    return [{ accept: true }, result];
  }
}
