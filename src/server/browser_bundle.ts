// This module is browser compatible.

/**
 * The prebuilt browser bundle of this library, shipped in the package: `browser.ts`
 * (everything in `@gotalk/gotalk`, `ReconnectingPeer` included, plus the WebSocket
 * client) as one minified ESM file, built from the same sources as the rest of the package.
 * `browserBundleRoute()` from `@gotalk/gotalk/bundle-route` serves it at `/gotalk/gotalk.js`
 * when called without a bundle, so a server needs no build step of its own.
 *
 * @example The bundle is an ES module that exports the session API
 * ```ts
 * import { BROWSER_BUNDLE } from "@gotalk/gotalk/browser-bundle";
 * import assert from "node:assert/strict";
 *
 * assert.match(BROWSER_BUNDLE, /^\/\* gotalk for TypeScript /);
 * assert.match(BROWSER_BUNDLE, /\bconnectWebSocket\b/);
 * assert.match(BROWSER_BUNDLE, /\bReconnectingPeer\b/);
 * ```
 *
 * @module
 */

import { BUNDLE } from "./_browser_bundle_generated.ts";

/**
 * The browser bundle's source text: one minified ESM file with no imports
 * and nothing runtime-specific. Pages import `Peer`, `Handlers`, `ReconnectingPeer`,
 * `connectWebSocket` and the rest of `@gotalk/gotalk` from wherever it is served.
 *
 * @example Serving it by hand (`browserBundleRoute()` does this, with ETag, gzip and `304`)
 * ```ts
 * import { BROWSER_BUNDLE } from "@gotalk/gotalk/browser-bundle";
 * import assert from "node:assert/strict";
 *
 * const response = new Response(BROWSER_BUNDLE, {
 *   headers: { "content-type": "text/javascript; charset=utf-8" },
 * });
 * assert.equal((await response.text()).length, BROWSER_BUNDLE.length);
 * assert.ok(BROWSER_BUNDLE.length > 10_000);
 * ```
 */
export const BROWSER_BUNDLE: string = BUNDLE;
