// This module is browser compatible.
// Contracts: the names and value types of what one side serves, as a TypeScript type or as a
// value of Standard Schemas, and the type functions that `Peer`, `Session` and `Handlers` use to
// type their calls from one.

import type { InferSchemaInput, InferSchemaOutput, StandardSchemaV1 } from "./standard_schema.ts";

/**
 * A JSON op in a {@linkcode Contract}: a value in, a value out. `input` and `output` are types
 * (in a contract type) or Standard Schemas (in a contract value, which then also validates them);
 * no `input` means the request carries no value, no `output` means the result is `unknown`.
 *
 * @example An op taking a room and answering its members
 * ```ts
 * import type { JsonOp } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Join = JsonOp & { input: { room: string }; output: string[] };
 * const join: Join = { input: { room: "general" }, output: ["ada"] };
 * assert.equal(join.input.room, "general");
 * ```
 */
export interface JsonOp {
  /** `json`, or nothing: JSON is the default kind. */
  readonly kind?: "json";
  /** The request value's type, or a schema for it. */
  readonly input?: unknown;
  /** The result's type, or a schema for it. */
  readonly output?: unknown;
}

/**
 * A buffer op in a {@linkcode Contract}: raw bytes in and out (`bufferRequest`,
 * `handleBuffer`).
 *
 * @example Usage
 * ```ts
 * import type { BufferOp } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const op: BufferOp = { kind: "buffer" };
 * assert.equal(op.kind, "buffer");
 * ```
 */
export interface BufferOp {
  /** `buffer`. */
  readonly kind: "buffer";
}

/**
 * A streaming op in a {@linkcode Contract}: parts in, parts out (`streamRequest`,
 * `handleStream`).
 *
 * @example Usage
 * ```ts
 * import type { StreamOp } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const op: StreamOp = { kind: "stream" };
 * assert.equal(op.kind, "stream");
 * ```
 */
export interface StreamOp {
  /** `stream`. */
  readonly kind: "stream";
}

/**
 * What one side of a connection serves: its ops (by name: {@linkcode JsonOp},
 * {@linkcode BufferOp} or {@linkcode StreamOp}) and the notifications it takes (by name: the
 * value's type, or a Standard Schema for it). `Peer<Local, Remote>`, `Session<Local, Remote>`
 * and `Handlers<Local, Remote>` take two: what this side serves and what the other side serves.
 *
 * Write one as a type (inline object types or `type` aliases: an `interface` for `ops` lacks the
 * index signature this needs), or as a value of schemas through {@linkcode defineContract},
 * whose type (`typeof value`) is then the contract type. Leaving `ops` (or `notifications`) out
 * leaves that half untyped: any name, any value, as without a contract.
 *
 * @example A chat server's contract as a type: a misspelt op does not compile
 * ```ts
 * import { type Contract, Handlers, Peer, pipePair } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type ChatServer = {
 *   ops: { join: { input: { room: string }; output: { members: string[] } } };
 *   notifications: { typing: { room: string } };
 * };
 * const handlers = new Handlers<ChatServer>()
 *   .handle("join", ({ room }) => ({ members: [`ada@${room}`] }))
 *   .handleNotification("typing", () => {});
 * const [a, b] = pipePair();
 * const server = new Peer<ChatServer>(a, { handlers });
 * const client = new Peer<Contract, ChatServer>(b);
 * const { members } = await client.request("join", { room: "general" });
 * assert.deepEqual(members, ["ada@general"]);
 * // @ts-expect-error: the server has no op "jion"
 * await assert.rejects(client.request("jion", { room: "general" }));
 * client.abort();
 * server.abort();
 * ```
 */
export interface Contract {
  /** The ops served, by name. */
  readonly ops?: { readonly [op: string]: JsonOp | BufferOp | StreamOp };
  /** The notifications taken, by name: each value's type, or a schema for it. */
  readonly notifications?: { readonly [name: string]: unknown };
}

/**
 * Returns `contract` as it is, typed exactly (op kinds stay literal): the way to write a
 * contract as a value of Standard Schemas. Its type, `typeof contract`, is a
 * {@linkcode Contract} type whose values are the schemas' types; handed to `Handlers`
 * (`new Handlers({ contract })`) it also validates what arrives, and to
 * {@linkcode remote} it validates results.
 *
 * @typeParam C The contract's type, inferred.
 * @param contract Ops and notifications, with schemas for their values.
 * @returns `contract`.
 *
 * @example A contract of hand-written schemas
 * ```ts
 * import { defineContract, type StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const text: StandardSchemaV1<string> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => typeof v === "string" ? { value: v } : { issues: [{ message: "Not text" }] },
 *   },
 * };
 * const api = defineContract({ ops: { upper: { input: text, output: text }, blob: { kind: "buffer" } } });
 * assert.equal(api.ops.blob.kind, "buffer");
 * ```
 */
export function defineContract<const C extends Contract>(contract: C): C {
  return contract;
}

/**
 * The ops of the contract `C`, by name; `never` when it declares none.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { ContractOps } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const ops: ContractOps<{ ops: { blob: { kind: "buffer" } } }> = { blob: { kind: "buffer" } };
 * assert.equal(ops.blob.kind, "buffer");
 * ```
 */
export type ContractOps<C> = C extends { readonly ops: infer O } ? O : never;

/**
 * The notifications of the contract `C`, by name; `never` when it declares none.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { ContractNotifications } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const n: ContractNotifications<{ notifications: { tick: number } }> = { tick: 1 };
 * assert.equal(n.tick, 1);
 * ```
 */
export type ContractNotifications<C> = C extends { readonly notifications: infer N } ? N : never;

/**
 * What a sender writes for a declared value: a schema's input type, or the type itself.
 *
 * @typeParam T A type, or a Standard Schema.
 *
 * @example Usage
 * ```ts
 * import type { SentValue, StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const a: SentValue<StandardSchemaV1<string, number>> = "12";
 * const b: SentValue<boolean> = true;
 * assert.deepEqual([a, b], ["12", true]);
 * ```
 */
export type SentValue<T> = T extends StandardSchemaV1 ? InferSchemaInput<T> : T;

/**
 * What a receiver gets for a declared value: a schema's output type (the value once
 * validated), or the type itself.
 *
 * @typeParam T A type, or a Standard Schema.
 *
 * @example Usage
 * ```ts
 * import type { ReceivedValue, StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const a: ReceivedValue<StandardSchemaV1<string, number>> = 12;
 * assert.equal(a, 12);
 * ```
 */
export type ReceivedValue<T> = T extends StandardSchemaV1 ? InferSchemaOutput<T> : T;

/**
 * The names of `C`'s ops of one kind (`json`, `buffer`, `stream`); `never` when `C` declares no
 * ops.
 *
 * @typeParam C A contract.
 * @typeParam Kind The kind.
 *
 * @example Usage
 * ```ts
 * import type { OpName } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Api = { ops: { join: { input: string }; blob: { kind: "buffer" } } };
 * const json: OpName<Api, "json"> = "join";
 * const buffer: OpName<Api, "buffer"> = "blob";
 * assert.deepEqual([json, buffer], ["join", "blob"]);
 * ```
 */
export type OpName<C, Kind extends "json" | "buffer" | "stream" = "json"> =
  & {
    [K in keyof ContractOps<C>]: ContractOps<C>[K] extends { readonly kind: "buffer" | "stream" }
      ? ContractOps<C>[K] extends { readonly kind: Kind } ? K : never
      : Kind extends "json" ? K
      : never;
  }[keyof ContractOps<C>]
  & string;

/**
 * The names of `C`'s notifications; `never` when it declares none.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { NotificationName } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const name: NotificationName<{ notifications: { typing: string } }> = "typing";
 * assert.equal(name, "typing");
 * ```
 */
export type NotificationName<C> = keyof ContractNotifications<C> & string;

/**
 * The names of `C`'s notifications whose value is bytes (`Uint8Array`): what
 * `bufferNotify` and `handleBufferNotification` take.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { BufferNotificationName } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const name: BufferNotificationName<{ notifications: { blob: Uint8Array; chat: string } }> = "blob";
 * assert.equal(name, "blob");
 * ```
 */
export type BufferNotificationName<C> =
  & {
    [K in keyof ContractNotifications<C>]: ContractNotifications<C>[K] extends Uint8Array ? K
      : never;
  }[keyof ContractNotifications<C>]
  & string;

/**
 * Any op name when `C` declares no ops (the untyped API), else `never`: the op parameter of the
 * untyped signatures, which a contract thus turns off.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { Contract, UntypedOp } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const op: UntypedOp<Contract> = "anything";
 * assert.equal(op, "anything");
 * ```
 */
export type UntypedOp<C> = C extends { readonly ops: object } ? never : string;

/**
 * Any notification name when `C` declares no notifications, else `never`.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { Contract, UntypedNotification } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const name: UntypedNotification<Contract> = "anything";
 * assert.equal(name, "anything");
 * ```
 */
export type UntypedNotification<C> = C extends { readonly notifications: object } ? never
  : string;

/**
 * The value a caller sends with the JSON op `K` of `C` (`undefined` when it declares none).
 *
 * @typeParam C A contract.
 * @typeParam K An op name.
 *
 * @example Usage
 * ```ts
 * import type { OpInput } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const value: OpInput<{ ops: { join: { input: { room: string } } } }, "join"> = { room: "a" };
 * assert.equal(value.room, "a");
 * ```
 */
export type OpInput<C, K extends PropertyKey> = ContractOps<C>[K & keyof ContractOps<C>] extends
  { readonly input: infer I } ? SentValue<I> : undefined;

/**
 * The value the handler of the JSON op `K` of `C` gets (validated, when the contract has a
 * schema for it and the handlers were given the contract).
 *
 * @typeParam C A contract.
 * @typeParam K An op name.
 *
 * @example Usage
 * ```ts
 * import type { HandlerInput } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const value: HandlerInput<{ ops: { add: { input: number[] } } }, "add"> = [1, 2];
 * assert.equal(value.length, 2);
 * ```
 */
export type HandlerInput<C, K extends PropertyKey> =
  ContractOps<C>[K & keyof ContractOps<C>] extends { readonly input: infer I } ? ReceivedValue<I>
    : undefined;

/**
 * What the handler of the JSON op `K` of `C` returns.
 *
 * @typeParam C A contract.
 * @typeParam K An op name.
 *
 * @example Usage
 * ```ts
 * import type { HandlerOutput } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const out: HandlerOutput<{ ops: { add: { output: number } } }, "add"> = 3;
 * assert.equal(out, 3);
 * ```
 */
export type HandlerOutput<C, K extends PropertyKey> =
  ContractOps<C>[K & keyof ContractOps<C>] extends { readonly output: infer O } ? SentValue<O>
    : unknown;

/**
 * What a caller of the JSON op `K` of `C` gets back.
 *
 * @typeParam C A contract.
 * @typeParam K An op name.
 *
 * @example Usage
 * ```ts
 * import type { OpResult } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const members: OpResult<{ ops: { join: { output: string[] } } }, "join"> = ["ada"];
 * assert.equal(members[0], "ada");
 * ```
 */
export type OpResult<C, K extends PropertyKey> = ContractOps<C>[K & keyof ContractOps<C>] extends
  { readonly output: infer O } ? ReceivedValue<O> : unknown;

/**
 * The value sent with the notification `K` of `C`.
 *
 * @typeParam C A contract.
 * @typeParam K A notification name.
 *
 * @example Usage
 * ```ts
 * import type { NotificationValue } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const v: NotificationValue<{ notifications: { typing: { room: string } } }, "typing"> = { room: "a" };
 * assert.equal(v.room, "a");
 * ```
 */
export type NotificationValue<C, K extends PropertyKey> = SentValue<
  ContractNotifications<C>[K & keyof ContractNotifications<C>]
>;

/**
 * The value the handler of the notification `K` of `C` gets.
 *
 * @typeParam C A contract.
 * @typeParam K A notification name.
 *
 * @example Usage
 * ```ts
 * import type { NotificationInput } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const v: NotificationInput<{ notifications: { seen: number } }, "seen"> = 4;
 * assert.equal(v, 4);
 * ```
 */
export type NotificationInput<C, K extends PropertyKey> = ReceivedValue<
  ContractNotifications<C>[K & keyof ContractNotifications<C>]
>;

/** The schema `contract` has for the input of op `op`, if any (run time). */
export function inputSchema(
  contract: Contract | undefined,
  op: string,
): StandardSchemaV1 | undefined {
  const spec = contract?.ops?.[op] as { input?: unknown } | undefined;
  return asSchema(spec?.input);
}

/** The schema `contract` has for the output of op `op`, if any (run time). */
export function outputSchema(
  contract: Contract | undefined,
  op: string,
): StandardSchemaV1 | undefined {
  const spec = contract?.ops?.[op] as { output?: unknown } | undefined;
  return asSchema(spec?.output);
}

/** The schema `contract` has for the notification `name`, if any (run time). */
export function notificationSchema(
  contract: Contract | undefined,
  name: string,
): StandardSchemaV1 | undefined {
  return asSchema(contract?.notifications?.[name]);
}

function asSchema(x: unknown): StandardSchemaV1 | undefined {
  if (typeof x !== "object" && typeof x !== "function" || x === null) return undefined;
  const s = (x as { "~standard"?: { validate?: unknown } })["~standard"];
  return typeof s?.validate === "function" ? x as StandardSchemaV1 : undefined;
}

/**
 * The op parameter of `bufferRequest` and `handleBuffer` (`Kind` `buffer`), or of
 * `streamRequest` and `handleStream` (`stream`): the names of that kind in `C`, or any name when
 * `C` declares no ops.
 *
 * @typeParam C A contract.
 * @typeParam Kind `buffer` or `stream`.
 *
 * @example Usage
 * ```ts
 * import type { BytesOp, Contract } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const typed: BytesOp<{ ops: { blob: { kind: "buffer" } } }, "buffer"> = "blob";
 * const untyped: BytesOp<Contract, "stream"> = "anything";
 * assert.deepEqual([typed, untyped], ["blob", "anything"]);
 * ```
 */
export type BytesOp<C, Kind extends "buffer" | "stream"> = OpName<C, Kind> | UntypedOp<C>;

/**
 * The name parameter of `bufferNotify` and `handleBufferNotification`: `C`'s notifications of
 * bytes, or any name when `C` declares no notifications.
 *
 * @typeParam C A contract.
 *
 * @example Usage
 * ```ts
 * import type { BytesNotification } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const name: BytesNotification<{ notifications: { blob: Uint8Array } }> = "blob";
 * assert.equal(name, "blob");
 * ```
 */
export type BytesNotification<C> = BufferNotificationName<C> | UntypedNotification<C>;
