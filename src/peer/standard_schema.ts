// This module is browser compatible.
// The Standard Schema v1 interface (https://standardschema.dev, `@standard-schema/spec` 1.1.0),
// restated here as types so that the library has no dependency: zod, valibot, arktype and
// others produce values of this shape, and any of them validates a contract's values.

/**
 * A schema in the Standard Schema v1 form: what zod (3.24+), valibot (1.0+), arktype and other
 * libraries produce. A contract's ops and notifications may use one for a value, which is then
 * validated on arrival and typed from the schema.
 *
 * @typeParam Input What the schema accepts (what a sender writes).
 * @typeParam Output What validation produces (what a handler gets).
 *
 * @example A hand-written schema: a string of at most 8 characters
 * ```ts
 * import type { StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const shortString: StandardSchemaV1<string> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "string" && value.length <= 8
 *         ? { value }
 *         : { issues: [{ message: "Expected a string of at most 8 characters" }] },
 *   },
 * };
 * assert.deepEqual(shortString["~standard"].validate("hi"), { value: "hi" });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** The version of the standard: 1. */
    readonly version: 1;
    /** The library that made the schema. */
    readonly vendor: string;
    /** Validates a value: its output, or the issues found. */
    readonly validate: (
      value: unknown,
      options?: { readonly libraryOptions?: Record<string, unknown> | undefined } | undefined,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    /** The schema's types (only for inference; absent at run time). */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/**
 * What a Standard Schema's `validate` returns: the value, or the issues (a falsy `issues` means
 * success).
 *
 * @typeParam Output The validated value's type.
 *
 * @example Telling success from failure
 * ```ts
 * import type { StandardSchemaResult } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const results: StandardSchemaResult<number>[] = [{ value: 1 }, { issues: [{ message: "No" }] }];
 * assert.deepEqual(results.map((r) => r.issues ? "failed" : "ok"), ["ok", "failed"]);
 * ```
 */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * One problem a Standard Schema found: a message, and where in the value (keys, or
 * `{ key }` segments).
 *
 * @example An issue at `members[0]`
 * ```ts
 * import type { StandardSchemaIssue } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const issue: StandardSchemaIssue = { message: "Expected a string", path: ["members", { key: 0 }] };
 * assert.equal(issue.path?.length, 2);
 * ```
 */
export interface StandardSchemaIssue {
  /** The issue's message. */
  readonly message: string;
  /** Where in the value, if anywhere. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * What a Standard Schema accepts: its input type.
 *
 * @typeParam S The schema.
 *
 * @example Usage
 * ```ts
 * import type { InferSchemaInput, StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Room = InferSchemaInput<StandardSchemaV1<{ room: string }>>;
 * const room: Room = { room: "general" };
 * assert.equal(room.room, "general");
 * ```
 */
export type InferSchemaInput<S extends StandardSchemaV1> = NonNullable<
  S["~standard"]["types"]
>["input"];

/**
 * What a Standard Schema's validation produces: its output type.
 *
 * @typeParam S The schema.
 *
 * @example Usage
 * ```ts
 * import type { InferSchemaOutput, StandardSchemaV1 } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * type Count = InferSchemaOutput<StandardSchemaV1<string, number>>;
 * const count: Count = 3;
 * assert.equal(count, 3);
 * ```
 */
export type InferSchemaOutput<S extends StandardSchemaV1> = NonNullable<
  S["~standard"]["types"]
>["output"];
