// `gotalk tap` between the Go reference client and our server, its frames as printed, the
// recording replayed with `gotalk replay`, and malformed input passed on unchanged.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goPeer, GOTALK, OUR_PEER, run, serve, start, within } from "./_test_cli_child.ts";

type Frame = Record<string, unknown>;

describe("gotalk tap", () => {
  test("prints the frames between the Go client and our server; replay gets the same answers", async () => {
    const go = await within(goPeer(), 200_000, "go build");
    assert.ok(go !== null, "the Go reference peer builds (Go is required)");
    const dir = mkdtempSync(join(tmpdir(), "gotalk-tap-"));
    const record = join(dir, "session.jsonl");
    const { server, url } = await serve(OUR_PEER);
    try {
      const tap = start([...GOTALK, "tap", "--json", "--record", record, "tcp://127.0.0.1:0", url]);
      try {
        const listening = await tap.waitFor(/listening on (tcp:\/\/\S+),/, 30_000);
        const checks = "echo-small,upper-unicode,fail-error-result,stream-echo";
        const r = await run([go, "check", "--url", listening[1], "--only", checks], 60_000);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // Four connections, each closed by the client: wait until the tap printed all four.
        await tap.waitFor(/("type":"close"[^\n]*\n[^]*){4}/, 10_000);
      } finally {
        await tap.stop();
      }
      const frames: Frame[] = tap.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const c2s = frames.filter((f) => f.dir === "c2s");
      const s2c = frames.filter((f) => f.dir === "s2c");
      assert.equal(frames.filter((f) => f.type === "open").length, 4);
      assert.equal(c2s.filter((f) => f.type === "handshake").length, 4);
      assert.equal(s2c.filter((f) => f.type === "handshake").length, 4);
      const echo = c2s.find((f) => f.type === "r" && f.op === "echo")!;
      assert.equal(echo.kind, "SingleRequest");
      assert.equal(echo.preview, '"hello, gotalk"');
      assert.equal(echo.payloadBytes, 13);
      assert.equal(echo.headerBytes, 20); // r + id(4) + 003 + echo + 8-digit size
      const echoResult = s2c.find((f) => f.type === "R" && f.id === echo.id)!;
      assert.equal(echoResult.kind, "SingleResult");
      assert.equal(echoResult.preview, '"hello, gotalk"');
      assert.equal(typeof echoResult.rttMs, "number");
      const upper = c2s.find((f) => f.op === "upper")!;
      assert.equal(upper.previewKind, "json");
      assert.ok(
        s2c.some((f) => f.type === "R" && f.previewKind === "json" && f.rttMs !== undefined),
      );
      const fail = s2c.find((f) => f.type === "E")!;
      assert.equal(fail.kind, "ErrorResult");
      assert.equal(typeof fail.rttMs, "number");
      assert.ok(c2s.some((f) => f.type === "s" && f.op === "stream-echo"));
      assert.ok(c2s.some((f) => f.type === "p" && f.payloadBytes === 0), "the request's end");
      assert.ok(s2c.some((f) => f.type === "S" && f.payloadBytes === 0), "the result's end");
      assert.ok(!frames.some((f) => f.type === "malformed" || f.type === "raw"));

      const same = await run([...GOTALK, "replay", record, url], 30_000);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /the same answers/);
      assert.equal((same.stdout.match(/^#\d+: (\d+)\/\1 frames as recorded$/gm) ?? []).length, 4);

      // A recording whose answers differ: replay says how, and exits 1.
      const lines = readFileSync(record, "utf8").trim().split("\n");
      const changed = lines.map((l) => {
        const o = JSON.parse(l);
        if (o.dir !== "s2c" || o.data === undefined) return l;
        const bytes = atob(o.data).replace("hello, gotalk", "HELLO, gotalk");
        return JSON.stringify({ ...o, data: btoa(bytes) });
      });
      const changedFile = join(dir, "changed.jsonl");
      writeFileSync(changedFile, changed.join("\n"));
      const differ = await run([...GOTALK, "replay", changedFile, url], 30_000);
      assert.equal(differ.code, 1, differ.stdout + differ.stderr);
      assert.match(differ.stdout, /- missing: +R SingleResult .*"HELLO, gotalk"/);
      assert.match(differ.stdout, /\+ unexpected: R SingleResult .*"hello, gotalk"/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("shows malformed input, flags it and passes it on unchanged", async () => {
    const { server, url } = await serve(OUR_PEER);
    try {
      const tap = start([...GOTALK, "tap", "--once", "tcp://127.0.0.1:0", url]);
      try {
        const listening = await tap.waitFor(/listening on tcp:\/\/([\d.]+):(\d+),/, 30_000);
        // A valid request, then a header that is not hex: our server answers the request, then
        // refuses the garbage with ProtocolError 2 (f00000002) and closes.
        const got = await within(
          new Promise<string>((resolve, reject) => {
            const s = connect(Number(listening[2]), listening[1]);
            let text = "";
            s.setEncoding("latin1");
            s.on("data", (d: string) => void (text += d));
            s.on("error", reject);
            s.on("close", () => resolve(text));
            s.write("01r0001004echo00000002hir0002004echo0000zz!!");
          }),
          10_000,
          "the server's answer through the tap",
        );
        assert.match(got, /^01R000100000002hi.*f00000002$/);
        await within(tap.exited, 10_000, "tap --once exit");
      } finally {
        await tap.stop();
      }
      assert.match(tap.stdout, /C→S r SingleRequest {2}id=0001 {2}op=echo {2}20\+2 B {2}"hi"/);
      assert.match(tap.stdout, /S→C R SingleResult {2}id=0001 {2}13\+2 B {2}"hi" {2}rtt [\d.]+ ms/);
      assert.match(
        tap.stdout,
        /C→S !! malformed: .*; forwarded unchanged: 20 B {2}"r0002004echo0000zz!!"/,
      );
      assert.match(tap.stdout, /S→C f ProtocolError {2}code=2 {2}error=InvalidMessage/);
    } finally {
      await server.stop();
    }
  });
});
