/**
 * The README's Browser section, as a user runs it: the npm tarball installed offline into a fresh
 * project, the section's server (`browser-server.mjs`) and page (`index.html`) written there as
 * they are, and the server run on Node, on Bun and on Deno (with the WebSocket server of that
 * runtime, as the README's comment says). Headless Chromium loads the page, which imports the
 * package's prebuilt bundle from `/gotalk/gotalk.js` and shows the server's answer; the bundle
 * served is the one in the installed package, with no build step.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bin, launch, newPage, Proc, TEST } from "./_test_browser.ts";
import { examples, installTarball } from "../transports/_test_readme.ts";

const RUNTIMES = [
  { name: "Node", cmd: "node", args: [], websocket: "gotalk/websocket-node" },
  { name: "Bun", cmd: bin("bun"), args: [], websocket: "gotalk/websocket-bun" },
  { name: "Deno", cmd: bin("deno"), args: ["run", "-A"], websocket: "gotalk/websocket-deno" },
] as const;

Deno.test({
  name: "README Browser section: the installed package serves its bundle and the page",
  ...TEST,
  async fn(t) {
    const readme = examples(Deno.readTextFileSync(new URL("../../README.md", import.meta.url)));
    const server = readme.get("browser-server.mjs");
    const page = readme.get("index.html");
    assert.ok(server && page, "the README's Browser section has its server and page");
    assert.match(server, /from "gotalk\/websocket-node";/);
    const dir = mkdtempSync(join(tmpdir(), "gotalk-browser-readme-"));
    const browser = await launch();
    try {
      installTarball(dir);
      writeFileSync(join(dir, "index.html"), page);
      const installed = await import(
        `file://${dir}/node_modules/gotalk/esm/src/server/browser_bundle.js`
      );
      for (const runtime of RUNTIMES) {
        await t.step(`served by ${runtime.name}`, async () => {
          const file = `browser-server-${runtime.name.toLowerCase()}.mjs`;
          writeFileSync(
            join(dir, file),
            server.replace('"gotalk/websocket-node"', `"${runtime.websocket}"`),
          );
          const proc = new Proc(runtime.cmd, [...runtime.args, file], false, {
            cwd: dir,
            env: { PORT: "0" },
          });
          const context = await browser.newContext();
          try {
            const [, url] = await proc.waitFor(/^open (http:\S+)$/m, 60_000, `${runtime.name}`);
            const js = await fetch(new URL("/gotalk/gotalk.js", url));
            assert.equal(js.status, 200);
            assert.equal(await js.text(), installed.BROWSER_BUNDLE);
            const errors: string[] = [];
            const tab = await newPage(context, errors);
            await tab.goto(url);
            await tab.waitForFunction(
              () =>
                (globalThis as any).document.querySelector("#greeting")?.textContent ===
                  "Hello, browser!",
              undefined,
              { timeout: 15_000 },
            );
            // The page has no icon: Chromium's request for one gets a 404.
            assert.deepEqual(errors.filter((e) => !e.endsWith("/favicon.ico")), []);
          } finally {
            await context.close();
            await proc.stop();
          }
        });
      }
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
