// This module is browser compatible.
// A typed proxy over a session: one method per JSON op of the remote's contract, validating
// results with the contract's schemas when it is given as a value.

import { type Contract, type OpName, type OpResult, outputSchema } from "./contract.ts";
import type { RequestArgs, RequestOptions, Session } from "./session.ts";
import { ResultValidationError, validate, type ValidationIssue } from "./validation.ts";

/**
 * The typed proxy {@linkcode remote} returns: a method per JSON op of `R`, taking the op's
 * value and the request's options.
 *
 * @typeParam R The remote's contract.
 *
 * @example Usage
 * ```ts
 * import { Handlers, Peer, pipePair, remote, type Remote } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Api = { ops: { add: { input: [number, number]; output: number } } };
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers<Api>().handle("add", ([x, y]) => x + y) });
 * const client = new Peer(b);
 * const api: Remote<Api> = remote<Api>(client);
 * assert.equal(await api.add([2, 3]), 5);
 * client.abort();
 * server.abort();
 * ```
 */
export type Remote<R extends Contract> = {
  readonly [K in OpName<R>]: (...args: RequestArgs<R, K>) => Promise<OpResult<R, K>>;
};

/**
 * A typed proxy over `session` (a {@linkcode Peer}, a {@linkcode ReconnectingPeer}, or a
 * handler's `context.peer`): `remote<Api>(peer).join({ room })` sends the request `join` with
 * that value. Given the contract as a value (see {@linkcode defineContract}), it validates each
 * result with the op's `output` schema and rejects a result that fails with a
 * {@linkcode ResultValidationError}.
 *
 * @typeParam R The remote's contract (inferred from `contract`, or given).
 * @param session The session to send on.
 * @param contract The remote's contract as a value, to validate results.
 * @returns The proxy.
 *
 * @example A client typed and checked by the server's contract
 * ```ts
 * import { defineContract, Handlers, Peer, pipePair, remote, type StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const text: StandardSchemaV1<string> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => typeof v === "string" ? { value: v } : { issues: [{ message: "Not text" }] },
 *   },
 * };
 * const api = defineContract({ ops: { upper: { input: text, output: text } } });
 * const [a, b] = pipePair();
 * const handlers = new Handlers({ contract: api }).handle("upper", (s) => s.toUpperCase());
 * const server = new Peer(a, { handlers });
 * const client = remote(new Peer(b), api);
 * assert.equal(await client.upper("hi"), "HI");
 * server.abort();
 * ```
 */
export function remote<R extends Contract>(
  session: Session<Contract, R> | Session,
  contract?: R,
): Remote<R> {
  const send = session as Session;
  const methods = new Map<string, (value?: unknown, options?: RequestOptions) => unknown>();
  const method = (op: string) => {
    const schema = outputSchema(contract, op);
    if (schema === undefined) {
      return (value?: unknown, o?: RequestOptions) => send.request(op, value, o);
    }
    return async (value?: unknown, options?: RequestOptions) => {
      const result = await send.request(op, value, options);
      const fail = (issues: ValidationIssue[]): never => {
        throw new ResultValidationError(op, issues, result);
      };
      return await validate(schema, result, (v) => v, fail);
    };
  };
  return new Proxy(Object.create(null), {
    get(_target, op) {
      if (typeof op !== "string" || op === "then") return undefined;
      let fn = methods.get(op);
      if (fn === undefined) methods.set(op, fn = method(op));
      return fn;
    },
  }) as Remote<R>;
}
