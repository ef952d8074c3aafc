// `gotalk bench` completes against our server and reports what it measured.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { GOTALK, OUR_PEER, run, serve } from "./_test_cli_child.ts";

describe("gotalk bench", () => {
  test("pipelined echo load against our server: --json and text", async () => {
    const { server, url } = await serve(OUR_PEER);
    try {
      const flags = ["--duration", "300ms", "--warmup", "100ms", "--size", "100"];
      const r = await run(
        [...GOTALK, "bench", "--json", ...flags, "--inflight", "8", "--conns", "2", url],
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.size, 100);
      assert.equal(out.inflight, 8);
      assert.equal(out.conns, 2);
      assert.ok(out.requests > 0);
      assert.ok(out.rps > 0 && out.mbps > 0);
      assert.ok(out.p50_ms <= out.p90_ms && out.p90_ms <= out.p99_ms && out.p99_ms <= out.max_ms);
      const text = await run([...GOTALK, "bench", ...flags, url], 60_000);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /requests\/s, [\d.]+ MB\/s\n {2}latency p50 [\d.]+ ms, p90/);
    } finally {
      await server.stop();
    }
  });

  test("a server that is not there exits 3", async () => {
    const r = await run([...GOTALK, "bench", "--duration", "100ms", "tcp://127.0.0.1:1"], 30_000);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot connect/);
  });
});
