// This module is browser compatible.
// JSON (value) handlers as the raw handlers the peer runs: the payload decoded with the peer's
// codec, validated by the contract's schema when there is one, the result encoded.

import { decodeValue, encodeValue } from "./codec.ts";
import type {
  BufferHandler,
  BufferNotificationHandler,
  HandlerResult,
  JsonHandler,
  NotificationContext,
  NotificationHandler,
  RequestContext,
} from "./handler_types.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";
import { invalidInput, validate, type ValidationIssue } from "./validation.ts";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * A JSON handler as a buffer handler. A handler that returns a value is answered at once,
 * without a promise; one that returns a promise is answered when it settles. (A synchronous
 * throw is handled by the peer.) With `schema`, the decoded value is validated first: a failure
 * throws a `ValidationError`, which the peer sends as it is.
 */
export function jsonAsBuffer(
  fn: JsonHandler,
  schema: StandardSchemaV1 | undefined,
): BufferHandler {
  const encode = (result: unknown, context: RequestContext): HandlerResult =>
    result instanceof ReadableStream
      ? result
      : encodeValue(context.codec, result, "result of", context.op);
  const run = (value: unknown, context: RequestContext): HandlerResult | Promise<HandlerResult> => {
    const result = fn(value, context);
    return isThenable(result)
      ? Promise.resolve(result).then((r) => encode(r, context))
      : encode(result, context);
  };
  if (schema === undefined) {
    return (payload, context) => run(decodeValue(context.codec, payload), context);
  }
  return (payload, context) => {
    const fail = (issues: ValidationIssue[]): never => {
      throw invalidInput(context.op, issues, "request");
    };
    const value = decodeValue(context.codec, payload);
    return validate(schema, value, (v) => run(v, context), fail);
  };
}

/** A JSON notification handler as a buffer one (validating with `schema` when there is one). */
export function jsonNotification(
  fn: NotificationHandler,
  schema: StandardSchemaV1 | undefined,
): BufferNotificationHandler {
  if (schema === undefined) {
    return (payload, context) => fn(decodeValue(context.codec, payload), context);
  }
  return (payload, context: NotificationContext) => {
    const fail = (issues: ValidationIssue[]): never => {
      throw invalidInput(context.name, issues, "notification");
    };
    return validate(schema, decodeValue(context.codec, payload), (v) => fn(v, context), fail);
  };
}
