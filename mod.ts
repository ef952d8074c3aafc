// This module is browser compatible.

/**
 * Gotalk for TypeScript: the Gotalk v1 protocol for Deno, Bun, Node and browsers.
 *
 * @example Decoding wire bytes
 * ```ts
 * import { type Message, MessageDecoder } from "@gotalk/gotalk";
 * import assert from "node:assert/strict";
 *
 * const out: Message[] = [];
 * new MessageDecoder().push(new TextEncoder().encode("f00000001"), (m) => out.push(m));
 * assert.deepEqual(out, [{ type: "f", code: 1 }]);
 * ```
 *
 * @module
 */

export * from "./src/protocol/mod.ts";
