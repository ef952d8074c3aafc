/**
 * Contracts, validation and the value codec in headless Chromium: a page imports our browser
 * bundle and runs two peers over `pipePair`, one validating with a Standard Schema (hand-written:
 * the page has no schema library), the other calling through `remote()`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBrowserBundle } from "../../scripts/build_browser.ts";
import { launch, newPage, TEST, within } from "./_test_browser.ts";

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { defineContract, Handlers, Peer, pipePair, remote, ValidationError, ResultValidationError } from "/gotalk/gotalk.js";
const text = { "~standard": { version: 1, vendor: "page",
  validate: (v) => typeof v === "string" ? { value: v } : { issues: [{ message: "Expected string", path: ["name"] }] } } };
const api = defineContract({ ops: { greet: { input: text, output: text }, bad: { output: text } } });
const codec = { name: "tagged", encode: (v) => new TextEncoder().encode("T" + JSON.stringify(v)),
  decode: (b) => JSON.parse(new TextDecoder().decode(b).slice(1)) };
const handlers = new Handlers({ contract: api }).handle("greet", (n) => "Hello, " + n).handle("bad", () => 1);
const [a, b] = pipePair();
const server = new Peer(a, { handlers, logger: null, codec });
const client = new Peer(b, { codec });
const out = { greeting: await remote(client, api).greet("page") };
try { await client.request("greet", 5); } catch (e) {
  out.validation = { isValidation: e instanceof ValidationError, issues: e.issues };
}
try { await remote(client, api).bad(); } catch (e) { out.result = e instanceof ResultValidationError && e.value; }
client.abort(); server.abort();
window.results = out;
</script>`;

Deno.test({
  name: "browser: contracts, validation and a value codec run in Chromium from the bundle",
  ...TEST,
  async fn() {
    const bundle = await buildBrowserBundle();
    const js = readFileSync(bundle.path);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/gotalk/gotalk.js") {
        return new Response(js, { headers: { "content-type": "text/javascript" } });
      }
      return new Response(PAGE, { headers: { "content-type": "text/html" } });
    });
    const browser = await launch();
    try {
      const errors: string[] = [];
      const page = await newPage(await browser.newContext(), errors);
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      const results = await within(
        page.waitForFunction(() => (globalThis as { results?: unknown }).results).then((h) =>
          h.jsonValue()
        ),
        30_000,
        "page results",
      );
      assert.deepEqual(results, {
        greeting: "Hello, page",
        validation: {
          isValidation: true,
          issues: [{ message: "Expected string", path: ["name"] }],
        },
        result: 1,
      });
      assert.deepEqual(errors, []);
      assert.ok(join(bundle.path).endsWith("gotalk.js"));
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
