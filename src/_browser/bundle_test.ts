/**
 * The browser bundle (`scripts/build_browser.ts`): everything in `mod.ts` plus the WebSocket
 * client, nothing runtime-specific, only modules marked browser compatible.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as browserEntry from "../../browser.ts";
import { buildBrowserBundle, FORBIDDEN_IN_BUNDLE } from "../../scripts/build_browser.ts";
import { root } from "./_test_browser.ts";

Deno.test("browser bundle: mod.ts plus the WebSocket client, nothing runtime-specific", async () => {
  const bundle = await buildBrowserBundle();
  assert.equal(bundle.path, join(root, ".build", "browser", "gotalk.js"));
  const text = new TextDecoder().decode(bundle.bytes);
  for (const s of FORBIDDEN_IN_BUNDLE) assert.equal(text.includes(s), false, `mentions ${s}`);
  assert.deepEqual(FORBIDDEN_IN_BUNDLE, ["node:", "Deno.", "Bun."]);
  // Only browser-compatible modules went in: no runtime transports, no WebSocket servers.
  for (const input of bundle.inputs) {
    assert.doesNotMatch(input, /transports\/(websocket\/)?(deno|bun|node|_server_core)\.ts$/);
    assert.match(
      readFileSync(join(root, input), "utf8"),
      /^\/\/ This module is browser compatible\./,
    );
  }
  assert.ok(bundle.inputs.includes("src/transports/websocket/client.ts"));
  assert.ok(bundle.inputs.includes("src/peer/reconnecting.ts"));
  const exported = Object.keys(await import(`file://${bundle.path}`)).sort();
  const expected = [
    ...Object.keys(await import("../../mod.ts")),
    "connectWebSocket",
    "webSocketTransport",
  ].sort();
  assert.deepEqual(exported, expected);
  assert.deepEqual(Object.keys(browserEntry).sort(), expected);
  assert.ok(exported.includes("ReconnectingPeer"));
});
