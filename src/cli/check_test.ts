// `gotalk check --spawn` of the Go reference peer gives the catalogue's verdicts for it over tcp
// (77 OK, 23 NON-STRICT, 3 UNSUPPORTED, as conformance/driver.ts reports) and its client passes
// every client check, on every runtime (the whole catalogue takes about 20 s).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goPeer, GOTALK, OUR_PEER, run, serve, within } from "./_test_cli_child.ts";

describe("gotalk check", () => {
  test("--spawn the Go peer: the catalogue's verdicts, the client checks", async () => {
    const go = await within(goPeer(), 200_000, "go build");
    assert.ok(go !== null, "the Go reference peer builds (Go is required)");
    const dir = mkdtempSync(join(tmpdir(), "gotalk-check-"));
    try {
      const junitFile = join(dir, "report.xml");
      const r = await run(
        [...GOTALK, "check", "--json", "--junit", junitFile, "--spawn", go],
        240_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      const catalogue = doc.results.filter((x: { section: string }) => x.section !== "client");
      const client = doc.results.filter((x: { section: string }) => x.section === "client");
      const count = (v: string) =>
        catalogue.filter((x: { verdict: string }) => x.verdict === v).length;
      assert.deepEqual(
        [count("OK"), count("NON-STRICT"), count("UNSUPPORTED"), count("FAILED")],
        [77, 23, 3, 0],
      );
      assert.equal(
        catalogue.find((x: { id: string }) => x.id === "gotalk/oversized/10").verdict,
        "UNSUPPORTED",
      );
      assert.ok(client.length >= 15, `${client.length} client checks`);
      assert.ok(client.every((x: { verdict: string }) => x.verdict === "OK"));
      const xml = readFileSync(junitFile, "utf8");
      assert.match(xml, /<testsuite name="handshake" tests="7" failures="0"/);
      assert.match(xml, /<testcase name="client\/echo-small" classname="client"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a URL: text report, UNSUPPORTED for serve options, summary line", async () => {
    const { server, url } = await serve(OUR_PEER);
    try {
      const r = await run(
        [...GOTALK, "check", "--only", "gotalk/handshake/,gotalk/limits/1", url],
        60_000,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^handshake$/m);
      assert.match(r.stdout, /^ {2}✔ OK {10}gotalk\/handshake\/1 {2}The server sends its version/m);
      assert.match(r.stdout, /^ {2}- UNSUPPORTED gotalk\/limits\/1 .*\n {6}needs serve option/m);
      assert.match(r.stdout, /^8 cases: 7 OK, 0 NON-STRICT, 1 UNSUPPORTED, 0 FAILED \(/m);
    } finally {
      await server.stop();
    }
  });

  test("usage errors exit 2", async () => {
    const r = await run([...GOTALK, "check"], 30_000);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs a URL or --spawn/);
  });
});
