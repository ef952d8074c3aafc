// `gotalk call` end to end, as a child process of the test's runtime: every kind of request and
// a notification against `gotalk serve` and against the Go reference peer, over TCP and
// WebSocket; the exit statuses; `--help`; and `--spawn` of a child `gotalk serve --stdio`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runtimeKit } from "./_runtime.ts";
import {
  gotalk,
  gotalkCommand,
  type Running,
  runtime,
  startGoServer,
  startOurServer,
  until,
} from "./_test_cli.ts";

interface Peer {
  name: string;
  url: string;
  server: () => Running;
}

describe(`gotalk call on ${runtime}`, () => {
  let ours: Running | undefined;
  let goTcp: Running | undefined;
  let goWs: Running | undefined;
  const peers: Peer[] = [];

  before(async () => {
    [ours, goTcp, goWs] = await Promise.all([
      startOurServer(),
      startGoServer("tcp"),
      startGoServer("ws"),
    ]);
    const tcp = ours.urls.find((u) => u.startsWith("tcp:"))!;
    const ws = ours.urls.find((u) => u.startsWith("ws:"))!;
    peers.push(
      { name: "gotalk serve, tcp", url: tcp, server: () => ours! },
      { name: "gotalk serve, ws", url: ws, server: () => ours! },
      { name: "go peer, tcp", url: goTcp.urls[0], server: () => goTcp! },
      { name: "go peer, ws", url: goWs.urls[0], server: () => goWs! },
    );
  });

  after(async () => {
    await Promise.all([ours?.stop(), goTcp?.stop(), goWs?.stop()]);
  });

  for (const i of [0, 1, 2, 3]) {
    const label = ["gotalk serve, tcp", "gotalk serve, ws", "go peer, tcp", "go peer, ws"][i];
    describe(label, () => {
      test("a JSON request: the result on stdout, compact when not a terminal", async () => {
        const r = await gotalk(["call", peers[i].url, "upper", '"héllo ✓"']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.out, '"HÉLLO ✓"\n');
        const s = await gotalk([
          "call",
          peers[i].url,
          "sleep",
          '{"ms":1,"value":{"a":[1,"x"],"b":null}}',
        ]);
        assert.equal(s.code, 0, s.stderr);
        assert.equal(s.out, '{"a":[1,"x"],"b":null}\n');
      });

      test("--buffer: bytes from stdin, the result's bytes on stdout", async () => {
        const bytes = new Uint8Array(256).map((_, j) => j);
        const r = await gotalk(["call", "--buffer", peers[i].url, "echo", "-"], { input: bytes });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout, bytes);
      });

      test("--stream: stdin lines as parts, each result part on a line", async () => {
        const r = await gotalk(["call", "--stream", peers[i].url, "stream-echo"], {
          input: "one\ntwo\n\nthree ✓\n",
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.out, "one\ntwo\nthree ✓\n");
      });

      test("--notify: sent, nothing printed", async () => {
        const r = await gotalk(["call", "--notify", peers[i].url, "cli-note", `{"n":${i}}`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.out, "");
        if (i < 2) {
          // Our server prints the notifications it receives.
          await until(
            () => peers[i].server().stderr().includes(`notification cli-note {"n":${i}}`),
            10_000,
            () => peers[i].server().stderr(),
          );
        }
      });

      test("an ErrorResult: its message on stderr, exit status 1", async () => {
        const r = await gotalk(["call", "--buffer", peers[i].url, "fail", "it failed"]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr, "it failed\n");
        assert.equal(r.out, "");
        const u = await gotalk(["call", peers[i].url, "no-such-op", "1"]);
        assert.equal(u.code, 1);
        assert.ok(u.stderr.length > 1, "the error's text");
      });
    });
  }

  test("--timeout: exit status 3", async () => {
    const r = await gotalk([
      "call",
      "--timeout",
      "100",
      peers[0].url,
      "sleep",
      '{"ms":20000,"value":1}',
    ]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /Timed out after 100 ms/);
  });

  test("a refused connection: exit status 3", async () => {
    // Port 1 on loopback: nothing listens there unprivileged.
    const r = await gotalk(["call", "tcp://127.0.0.1:1", "upper", '"x"']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^gotalk call: /);
  });

  test("usage errors: exit status 2", async () => {
    for (
      const args of [
        ["call"],
        ["call", peers[0].url],
        ["call", "http://127.0.0.1:80/", "op"],
        ["call", peers[0].url, "upper", "not json"],
        ["call", "--no-such-flag", peers[0].url, "upper"],
        ["call", "--buffer", "--stream", peers[0].url, "echo"],
        ["serve", "--tcp", "not an address"],
        [],
        ["no-such-command"],
      ]
    ) {
      const r = await gotalk(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}${r.out}`);
    }
  });

  test("--help: the top level, call and serve, with examples", async () => {
    const top = await gotalk(["--help"]);
    assert.equal(top.code, 0);
    for (const c of ["call", "serve", "tap", "check", "bench"]) {
      assert.match(top.out, new RegExp(c));
    }
    for (const c of ["call", "serve"]) {
      const r = await gotalk([c, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^Usage: gotalk ${c}`));
      assert.match(r.out, /\nExamples:\n {2}gotalk /);
    }
  });

  test("--spawn: a child gotalk serve --stdio", async () => {
    const kit = await runtimeKit();
    assert.ok(
      kit.spawn !== undefined && kit.stdio !== undefined,
      `spawn() and stdio() on ${runtime}`,
    );
    const child = [...gotalkCommand(), "serve", "--stdio"].map((w) => JSON.stringify(w));
    const r = await gotalk(["call", "--spawn", child.join(" "), "upper", '"spawned"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.out, '"SPAWNED"\n');
  });
});
