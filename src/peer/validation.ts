// This module is browser compatible.
// Validation through Standard Schemas: the errors a failed validation raises, the ErrorResult
// body that carries one to the caller, and the calls into a schema.

import { RemoteError } from "./errors.ts";
import type { StandardSchemaIssue, StandardSchemaV1 } from "./standard_schema.ts";

/**
 * One validation problem, as it crosses the wire: a message and where in the value (object keys
 * and array indexes, outermost first; empty for the value itself).
 *
 * @example The issues of a request whose `room` is not a string
 * ```ts
 * import type { ValidationIssue } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const issue: ValidationIssue = { message: "Expected string", path: ["room"] };
 * assert.deepEqual(issue.path, ["room"]);
 * ```
 */
export interface ValidationIssue {
  /** The schema's message. */
  readonly message: string;
  /** Where: keys and indexes from the outside in. */
  readonly path: ReadonlyArray<string | number>;
}

/** The `error` field of a validation ErrorResult's JSON body. */
const KIND = "ValidationError";

/**
 * The remote refused a request (or a notification) whose value failed its schema: the
 * ErrorResult's body is JSON, `{"error":"ValidationError","message":…,"issues":[{"message":…,
 * "path":[…]}]}`, which the caller surfaces as this error with `issues` (a Go or gotalk.js caller
 * sees the JSON text as the error's message). A handler may throw one too.
 *
 * @example A request whose value fails the server's schema
 * ```ts
 * import { defineContract, Handlers, Peer, pipePair, type StandardSchemaV1, ValidationError } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const text: StandardSchemaV1<string> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => typeof v === "string" ? { value: v } : { issues: [{ message: "Expected string" }] },
 *   },
 * };
 * const contract = defineContract({ ops: { upper: { input: text, output: text } } });
 * const handlers = new Handlers({ contract }).handle("upper", (s) => s.toUpperCase());
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers, logger: null });
 * const client = new Peer(b);
 * await assert.rejects(client.request("upper", 42), (e) => {
 *   return e instanceof ValidationError && e.op === "upper" && e.issues[0].message === "Expected string";
 * });
 * client.abort();
 * server.abort();
 * ```
 */
export class ValidationError extends RemoteError {
  /** What failed, and where. */
  readonly issues: readonly ValidationIssue[];

  /**
   * Creates a validation error; its `payload` is the JSON body.
   *
   * @param op The op (or notification name) whose value failed.
   * @param message The summary.
   * @param issues The problems.
   * @param options Standard error options.
   */
  constructor(
    op: string,
    message: string,
    issues: readonly ValidationIssue[],
    options?: ErrorOptions,
  ) {
    super(op, JSON.stringify({ error: KIND, message, issues }), options);
    this.name = "ValidationError";
    this.message = message;
    this.issues = issues;
  }
}

/**
 * A result failed the caller's schema for it (see {@linkcode remote}): the remote answered,
 * but not with what the contract says.
 *
 * @example A server that answers a number where the contract says a string
 * ```ts
 * import { defineContract, Handlers, Peer, pipePair, remote, ResultValidationError, type StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const text: StandardSchemaV1<string> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => typeof v === "string" ? { value: v } : { issues: [{ message: "Expected string" }] },
 *   },
 * };
 * const api = defineContract({ ops: { name: { output: text } } });
 * const [a, b] = pipePair();
 * const server = new Peer(a, { handlers: new Handlers().handle("name", () => 7) });
 * const client = new Peer(b);
 * await assert.rejects(remote(client, api).name(), (e) => {
 *   return e instanceof ResultValidationError && e.op === "name" && e.value === 7;
 * });
 * client.abort();
 * server.abort();
 * ```
 */
export class ResultValidationError extends Error {
  /** The op whose result failed. */
  readonly op: string;
  /** What failed, and where. */
  readonly issues: readonly ValidationIssue[];
  /** The result as it arrived. */
  readonly value: unknown;

  /**
   * Creates a result validation error.
   *
   * @param op The op.
   * @param issues The problems.
   * @param value The result as it arrived.
   * @param options Standard error options.
   */
  constructor(
    op: string,
    issues: readonly ValidationIssue[],
    value: unknown,
    options?: ErrorOptions,
  ) {
    super(summary(`The result of "${op}" is invalid`, issues), options);
    this.name = "ResultValidationError";
    this.op = op;
    this.issues = issues;
    this.value = value;
  }
}

/** `head`, then the first issue (and how many more). */
function summary(head: string, issues: readonly ValidationIssue[]): string {
  if (issues.length === 0) return head;
  const first = issues[0];
  const at = first.path.length === 0 ? "" : `${first.path.join(".")}: `;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${head}: ${at}${first.message}${more}`;
}

/** A schema's issues in wire form (paths of plain keys; symbols as their description). */
export function toIssues(issues: ReadonlyArray<StandardSchemaIssue>): ValidationIssue[] {
  return issues.map((i) => ({
    message: String(i.message),
    path: (i.path ?? []).map((p) => {
      const key = typeof p === "object" && p !== null ? p.key : p;
      return typeof key === "number" ? key : String(key);
    }),
  }));
}

/**
 * Validates `value` with `schema`, then passes the validated value to `then`; a failure calls
 * `fail` with the issues instead. Synchronous when the schema is.
 */
export function validate<R>(
  schema: StandardSchemaV1,
  value: unknown,
  then: (value: unknown) => R,
  fail: (issues: ValidationIssue[]) => never,
): R | Promise<Awaited<R>> {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) {
    return result.then((r) => r.issues ? fail(toIssues(r.issues)) : then(r.value)) as Promise<
      Awaited<R>
    >;
  }
  return result.issues ? fail(toIssues(result.issues)) : then(result.value);
}

/** The error for an incoming value of `op` that failed its schema. */
export function invalidInput(
  op: string,
  issues: readonly ValidationIssue[],
  what: "request" | "notification",
): ValidationError {
  return new ValidationError(op, summary(`Invalid ${what} value for "${op}"`, issues), issues);
}

/**
 * The error for an ErrorResult to a request for `op`: a {@linkcode ValidationError} when the
 * body is a validation body, else a {@linkcode RemoteError}.
 */
export function remoteError(op: string, payload: Uint8Array): RemoteError {
  // `{"error":"ValidationError"` starts with `{"e`: anything else is plain text.
  if (payload.length < 30 || payload[0] !== 0x7b || payload[2] !== 0x65) {
    return new RemoteError(op, payload);
  }
  let body: { error?: unknown; message?: unknown; issues?: unknown };
  try {
    body = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return new RemoteError(op, payload);
  }
  if (
    body?.error !== KIND || typeof body.message !== "string" || !Array.isArray(body.issues) ||
    !body.issues.every(isIssue)
  ) {
    return new RemoteError(op, payload);
  }
  const e = new ValidationError(op, body.message, body.issues);
  // The exact bytes that arrived, as for any RemoteError.
  Object.defineProperty(e, "payload", { value: payload });
  return e;
}

function isIssue(x: unknown): x is ValidationIssue {
  const i = x as ValidationIssue;
  return typeof i === "object" && i !== null && typeof i.message === "string" &&
    Array.isArray(i.path) &&
    i.path.every((p) => typeof p === "string" || typeof p === "number");
}
