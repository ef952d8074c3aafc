#!/usr/bin/env node
// deno-lint-ignore-file no-console
// The one test command (`npm test`; `npm install-ci-test` on a fresh clone): every gate, the
// test suites on Deno, Bun and Node, the conformance suite against the Go reference, and the
// browser tests in headless Chromium.
// Plain JavaScript so that it runs with nothing but Node. Each step prints the names of its
// tests as they run; the summary gives each step's counts, says why a runtime ran a different set
// of tests than Deno (computed from the test names), and ends with one "N passed, N failed" line.
// It exits non-zero on any failure.
//
// Usage: node scripts/test.mjs [--only gates,deno,doc,bun,node,go,bench,stress,conformance,browser]
// (`npm test` first runs scripts/ensure_deps.mjs, which runs `npm ci` when node_modules is missing
// or stale, so that a fresh clone needs nothing but Node, npm and Go.)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const deno = bin("deno");
const bun = bin("bun");
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(",")) : null;
const want = (step) => !only || only.has(step);
// The browser tests (headless Chromium, Deno only) run in the `browser` step alone: the Deno and
// Bun steps ignore this folder, and scripts/build_npm.ts leaves it out of the Node build.
const BROWSER_TESTS = "src/_browser/";

const env = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
// Plain logs: Deno takes any FORCE_COLOR (even "0") as a request for colour.
delete env.FORCE_COLOR;
/**
 * @type {{step: string, passed: number, failed: number, ok: boolean, seconds: number,
 *   names?: string[]}[]}
 */
const results = [];

function run(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: opts.capture ? ["ignore", "pipe", "pipe"] : "inherit",
    timeout: opts.timeoutMs ?? 15 * 60 * 1000,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (opts.capture) {
    process.stdout.write(r.stdout ?? "");
    process.stderr.write(r.stderr ?? "");
  }
  if (r.error) console.error(`${cmd}: ${r.error.message}`);
  return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "", seconds };
}

/** Records a step; `names` are the full names of its tests (`suite > test`), where known. */
function record(step, ok, passed, failed, seconds, names) {
  results.push({ step, ok, passed, failed, seconds, names });
  console.log(
    `\n== ${step}: ${ok ? "ok" : "FAILED"} (${passed} passed, ${failed} failed, ${
      seconds.toFixed(1)
    } s)\n`,
  );
}

function section(title) {
  console.log(`\n==== ${title} ====\n`);
}

// The npm package (npm/, with the browser bundle it ships: scripts/build_npm.ts builds both) and
// the Node test build, once: the gates check the generated bundle module and the JSR package,
// and the Deno, Bun, Node and browser steps install the npm tarball as users do.
let built = null;
if (["gates", "deno", "doc", "bun", "node", "browser"].some(want)) {
  section("npm build (npm/, .build/node/, the browser bundle)");
  built = run(deno, ["run", "-A", "scripts/build_npm.ts"]);
  if (!built.ok) record("npm build", false, 0, 1, built.seconds);
}

// The NATS tests (src/nats/) start a real nats-server per test: Debian's package, installed with
// apt-get when missing (as root), as Chromium is for the browser step. Without it those tests
// fail, saying what to install.
if (["deno", "bun", "node"].some(want)) {
  const natsServer = process.env.NATS_SERVER ?? "/usr/sbin/nats-server";
  if (!existsSync(natsServer)) {
    if (process.getuid?.() === 0) {
      console.log(`${natsServer} is missing: installing nats-server with apt-get`);
      run("apt-get", ["update"], { timeoutMs: 10 * 60 * 1000 });
      run("apt-get", ["install", "-y", "--no-install-recommends", "nats-server"], {
        timeoutMs: 10 * 60 * 1000,
      });
    } else {
      console.error(`${natsServer} is missing: run \`apt-get install -y nats-server\` as root`);
    }
  }
}

// Gates: formatting, lint, types, docs, and the JSR package.
if (want("gates")) {
  const gates = [
    ["deno fmt --check", [deno, ["fmt", "--check"]]],
    ["deno lint", [deno, ["lint"]]],
    ["deno check", [deno, [
      "check",
      "mod.ts",
      "src/",
      "scripts/",
      "bench/",
      "demo/*.ts", // not demo/app.js: the page imports /gotalk/gotalk.js from the server
      "conformance/",
    ]]],
    ["deno doc --lint", [deno, ["doc", "--lint", "mod.ts", ...docEntries()]]],
    ["deno publish --dry-run", [deno, ["publish", "--dry-run", "--allow-dirty"]]],
    [
      "browser compatibility (DOM-only tsc)",
      [process.execPath, [
        join(root, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "scripts/browser_compat.tsconfig.json",
      ]],
    ],
  ];
  for (const [name, [cmd, args]] of gates) {
    section(name);
    const r = run(cmd, args);
    record(name, r.ok, r.ok ? 1 : 0, r.ok ? 0 : 1, r.seconds);
  }
}

function docEntries() {
  const exports = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports;
  return Object.entries(exports).filter(([k]) => k !== ".").map(([, v]) => v);
}

// Deno: node:test suites through `deno test`; leaf tests counted from its JUnit report.
if (want("deno")) {
  section("deno test");
  mkdirSync(join(root, ".build"), { recursive: true });
  const junit = join(root, ".build", "deno-junit.xml");
  const r = run(deno, [
    "test",
    "-A",
    "--reporter=pretty",
    `--junit-path=${junit}`,
    `--ignore=${BROWSER_TESTS}`,
    "src/",
  ]);
  const { passed, failed, names } = existsSync(junit)
    ? countJunit(readFileSync(junit, "utf8"))
    : { passed: 0, failed: 1, names: undefined };
  record(
    "deno test",
    r.ok && failed === 0,
    passed,
    r.ok ? failed : Math.max(failed, 1),
    r.seconds,
    names,
  );
}

/** The leaf tests of a Deno JUnit report (steps nest as `a > b`): counts and full names. */
function countJunit(xml) {
  const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)]
    .map((m) => ({ name: unescapeXml(m[1]), failed: /<failure/.test(m[2]) }));
  const names = new Set(cases.map((c) => c.name));
  const isParent = (name) => [...names].some((n) => n.startsWith(name + " > "));
  const leaves = cases.filter((c) => !isParent(c.name));
  return {
    passed: leaves.filter((c) => !c.failed).length,
    failed: leaves.filter((c) => c.failed).length,
    names: leaves.map((c) => c.name),
  };
}

function unescapeXml(text) {
  const named = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
  return text.replace(
    /&(#x[0-9a-f]+|#\d+|\w+);/gi,
    (m, e) =>
      e[0] !== "#"
        ? named[e] ?? m
        : String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

// Doc examples: every @example in mod.ts and the library's modules under src/ (public symbols are
// also documented in private modules that entry points re-export) is type-checked and run by
// `deno test --doc` with the workspace's deno.json, so `@gotalk/gotalk/...` imports resolve to
// these sources. Examples marked `ts ignore` (Bun-only APIs, a server that would stay up) are not
// run; each says why in its prose.
if (want("doc")) {
  section("deno test --doc (the examples in the docs)");
  mkdirSync(join(root, ".build"), { recursive: true });
  const junit = join(root, ".build", "doc-junit.xml");
  rmSync(junit, { force: true });
  const r = run(deno, [
    "test",
    "-A",
    "--doc",
    "--permit-no-files",
    "--reporter=pretty",
    `--junit-path=${junit}`,
    "mod.ts",
    ...libraryModules("src"),
  ], { timeoutMs: 5 * 60 * 1000 });
  // No names: these are not the suites the runtimes' counts are compared by.
  const { passed, failed } = existsSync(junit)
    ? countJunit(readFileSync(junit, "utf8"))
    : { passed: 0, failed: 1 };
  record(
    "doc test",
    r.ok && failed === 0 && passed > 0,
    passed,
    r.ok ? failed : Math.max(failed, 1),
    r.seconds,
  );
}

/**
 * The library's modules under `dir`: `.ts` files other than tests, benchmarks, test helpers
 * (`_test_*.ts`), the generated bundle module and the browser tests' folder.
 */
function libraryModules(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return `${path}/` === BROWSER_TESTS ? [] : libraryModules(path);
    if (/^_test_|_test\.ts$|_bench\.ts$|^_browser_bundle_generated\.ts$/.test(e.name)) return [];
    // The command's entry point runs the command when imported.
    if (path === "src/cli/gotalk.ts") return [];
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

// Bun: the same suites through `bun test`.
if (want("bun")) {
  section("bun test");
  const r = run(bun, [
    "test",
    "--timeout",
    "120000",
    `--path-ignore-patterns=${BROWSER_TESTS}**`,
    "./src/",
  ], { capture: true });
  const out = r.stdout + r.stderr;
  const passed = Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0);
  const failed = Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? (r.ok ? 0 : 1));
  // Bun prints one `(pass) suite > test [1.00ms]` line per test.
  const names = [...out.matchAll(/^\((?:pass|fail)\) (.*?)(?: \[[\d.]+m?s\])?$/gm)].map((m) =>
    m[1]
  );
  record("bun test", r.ok && passed > 0, passed, failed, r.seconds, names);
}

// Node 20: the npm build (TypeScript from npm), then node:test on the compiled suites.
if (want("node")) {
  section("node --test");
  const b = built;
  if (!b.ok) {
    record("node test", false, 0, 1, b.seconds);
  } else {
    const r = run(process.execPath, ["--test", "--test-reporter=spec", ".build/node/src/"], {
      capture: true,
    });
    const out = r.stdout + r.stderr;
    const passed = Number(/^ℹ pass (\d+)$/m.exec(out)?.[1] ?? 0);
    const failed = Number(/^ℹ fail (\d+)$/m.exec(out)?.[1] ?? (r.ok ? 0 : 1));
    const names = specNames(r.stdout);
    record("node test", r.ok && passed > 0, passed, failed, r.seconds, names);
  }
}

/**
 * The full names (`suite > test`) of the tests in node's spec report: `▶ suite` opens a level
 * (two spaces of indent each), `✔ suite (…)` at the same indent closes it, other `✔`/`✖` lines
 * are tests. The failure list at the end repeats failed tests: names are made unique.
 */
function specNames(out) {
  const names = new Set();
  const stack = [];
  for (const line of out.split("\n")) {
    const m = /^( *)(▶|✔|✖) (.*?)(?: \([\d.]+m?s\))?(?: # .*)?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 2;
    if (m[2] !== "▶" && stack.length === depth + 1 && stack[depth] === m[3]) {
      stack.pop();
      continue;
    }
    stack.length = Math.min(stack.length, depth);
    if (m[2] === "▶") stack.push(m[3]);
    else names.add([...stack, m[3]].join(" > "));
  }
  return [...names];
}

// The Go reference peer's own tests (it is built from github.com/rsms/gotalk v1.3.7).
if (want("go")) {
  section("go vet + go test (conformance/go-peer, bench/go-load, bench/go-fanout)");
  const t0 = performance.now();
  let ok = true;
  let out = "";
  // The Go reference peer, the benchmark's Go load generator and its fan-out members.
  const goDirs = ["conformance/go-peer", "bench/go-load", "bench/go-fanout"];
  for (const dir of goDirs.map((d) => join(root, d))) {
    const vet = spawnSync("go", ["vet", "./..."], { cwd: dir, env, stdio: "inherit" });
    const r = spawnSync("go", ["test", "-count=1", "-v", "./..."], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    process.stdout.write(
      (r.stdout ?? "").split("\n").filter((l) => /^\s*(---|ok|FAIL|PASS)/.test(l)).join("\n") +
        "\n",
    );
    process.stderr.write(r.stderr ?? "");
    out += r.stdout ?? "";
    ok &&= vet.status === 0 && r.status === 0;
  }
  const passed = (out.match(/^\s*--- PASS/gm) ?? []).length;
  const failed = (out.match(/^\s*--- FAIL/gm) ?? []).length;
  record("go test", ok, passed, ok ? failed : Math.max(failed, 1), (performance.now() - t0) / 1000);
}

// The benchmark runs (a tiny load: this checks that it works, never how fast).
if (want("bench")) {
  section("bench --quick");
  if (!existsSync(join(root, ".build", "node", "conformance", "peer.js"))) {
    run(deno, ["run", "-A", "scripts/build_npm.ts"]);
  }
  const r = run(deno, ["run", "-A", "bench/bench.ts", "--quick"]);
  record("bench --quick", r.ok, r.ok ? 1 : 0, r.ok ? 0 : 1, r.seconds);
}

// Stress: issue 15's abuse scenarios in small (a client that never reads, a pending flood beside
// another connection, stalled frames, fd exhaustion on TCP and WebSocket, churn, WebSocket
// protocol violations, a live fuzz) against `serve` on Deno, Bun and Node, with the bounds
// asserted; the Go reference's figures are printed beside ours, not asserted.
if (want("stress")) {
  section("stress (conformance/stress.ts)");
  if (!existsSync(join(root, ".build", "node", "conformance", "peer.js"))) {
    run(deno, ["run", "-A", "scripts/build_npm.ts"]);
  }
  const go = spawnSync("go", ["build", "-o", join(root, ".build", "go-peer"), "."], {
    cwd: join(root, "conformance", "go-peer"),
    env,
    stdio: "inherit",
  });
  const impls = go.status === 0 ? "ts-deno,ts-bun,ts-node,go" : "ts-deno,ts-bun,ts-node";
  const json = join(root, ".build", "stress.json");
  rmSync(json, { force: true });
  const r = run(deno, ["run", "-A", "conformance/stress.ts", "--impls", impls, "--json", json], {
    timeoutMs: 10 * 60 * 1000,
  });
  let passed = 0;
  let failed = 0;
  try {
    for (const row of JSON.parse(readFileSync(json, "utf8")).results) {
      if (row.impl === "go") continue;
      row.ok ? passed++ : failed++;
    }
  } catch (e) {
    console.error(`stress report unreadable: ${e.message}`);
    failed++;
  }
  record("stress", r.ok && failed === 0, passed, r.ok ? failed : Math.max(failed, 1), r.seconds);
}

// Conformance: the interop matrix, the case catalogue against every server, the idle test.
if (want("conformance")) {
  section("conformance (matrix, catalogue, idle)");
  // Always rebuild: a stale Node peer would lack the current contract's operations. The
  // browser bundle is what the peers serve at /gotalk/gotalk.js (case gotalk/ws/18).
  run(deno, ["run", "-A", "scripts/build_npm.ts"]);
  run(deno, ["run", "-A", "scripts/build_browser.ts"]);
  const outDir = join(root, "conformance", "reports");
  const r = run(deno, [
    "run",
    "-A",
    "conformance/matrix.ts",
    "--transports",
    "tcp,ws",
    "--out",
    outDir,
  ]);
  let passed = 0;
  let failed = 0;
  try {
    const m = JSON.parse(readFileSync(join(outDir, "matrix.json"), "utf8"));
    for (const byServer of Object.values(m.matrix)) {
      for (const byClient of Object.values(byServer)) {
        for (const cell of Object.values(byClient)) cell.ok ? passed++ : failed++;
      }
    }
    for (const i of m.idle) i.ok ? passed++ : failed++;
    const rep = JSON.parse(readFileSync(join(outDir, "report.json"), "utf8"));
    for (const impl of rep.summary) {
      failed += impl.counts.FAILED;
      passed += impl.total - impl.counts.FAILED;
    }
  } catch (e) {
    console.error(`conformance reports unreadable: ${e.message}`);
    failed++;
  }
  record("conformance", r.ok && failed === 0, passed, failed, r.seconds);
}

// Browser: the bundle's entry points (DOM-only types, docs), then headless Chromium against the
// chat demo on Deno and Bun, the Go reference WebSocket server and the official gotalk.js
// (src/_browser/). Chromium is installed with apt-get when missing (as root).
if (want("browser")) {
  // The bundle's entry points are type-checked DOM-only and doc-linted with the other gates.
  section("browser (headless Chromium)");
  const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
  const t1 = performance.now();
  if (!existsSync(chromium)) {
    if (process.getuid?.() === 0) {
      console.log(`${chromium} is missing: installing Chromium with apt-get`);
      run("apt-get", ["update"], { timeoutMs: 10 * 60 * 1000 });
      run("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], {
        timeoutMs: 20 * 60 * 1000,
      });
    } else {
      console.error(`${chromium} is missing: run \`apt-get install -y chromium\` as root`);
    }
  }
  if (!existsSync(chromium)) {
    record("browser test", false, 0, 1, (performance.now() - t1) / 1000);
  } else {
    mkdirSync(join(root, ".build"), { recursive: true });
    const junit = join(root, ".build", "browser-junit.xml");
    rmSync(junit, { force: true });
    const r = run(deno, [
      "test",
      "-A",
      "--reporter=pretty",
      `--junit-path=${junit}`,
      BROWSER_TESTS,
    ], { timeoutMs: 10 * 60 * 1000 });
    const { passed, failed } = existsSync(junit)
      ? countJunit(readFileSync(junit, "utf8"))
      : { passed: 0, failed: 1 };
    record(
      "browser test",
      r.ok && failed === 0 && passed > 0,
      passed,
      r.ok ? failed : Math.max(failed, 1),
      (performance.now() - t1) / 1000,
    );
  }
}

/**
 * Why a runtime's step ran other tests than Deno's, from the test names: names are compared with
 * the runtime left out (`transport tcp (bun)` is `transport tcp (deno)`), and what one side alone
 * has is counted by suite. Deno and Bun also test the Node adapters (`tcp-node`, `ws-node`)
 * through their Node compatibility, which on Node are its own `tcp` and `ws`: said so when that
 * is all of the difference.
 */
function countNote(r) {
  const ref = results.find((x) => x.step === "deno test");
  if (!r.names || !ref?.names || r === ref) return "";
  const norm = (n) => n.replace(/\((?:deno|bun|node)\)|\bon (?:deno|bun|node)\b/g, "(…)");
  const mine = new Set(r.names.map(norm));
  const theirs = new Set(ref.names.map(norm));
  const fewer = [...theirs].filter((n) => !mine.has(n));
  const more = [...mine].filter((n) => !theirs.has(n));
  const runtime = r.step.split(" ")[0];
  const parts = [];
  if (fewer.length > 0) {
    const compat = fewer.every((n) => /\b(?:tcp|ws)-node\b/.test(n));
    parts.push(
      `${fewer.length} fewer than deno` +
        (compat
          ? ": the Node adapters (tcp-node, ws-node) that Deno and Bun also run through their " +
            `Node compatibility are ${runtime}'s own tcp and ws`
          : "") +
        ` (${bySuite(fewer, "deno")})`,
    );
  }
  if (more.length > 0) parts.push(`${more.length} not run on deno (${bySuite(more, runtime)})`);
  return parts.length > 0 ? `${runtime} runs ${r.names.length} tests: ${parts.join("; ")}` : "";
}

/** `suite: N, …` for full test names (runtime left out: `(…)`), a suite being a name's first level. */
function bySuite(names, runtime) {
  const counts = new Map();
  for (const n of names) {
    const suite = n.split(" > ")[0].replace("(…)", `(${runtime})`);
    counts.set(suite, (counts.get(suite) ?? 0) + 1);
  }
  return [...counts].map(([suite, n]) => `${suite}: ${n}`).join(", ");
}

section("summary");
let passed = 0;
let failed = 0;
for (const r of results) {
  console.log(
    `${r.ok ? "ok    " : "FAILED"} ${r.step.padEnd(28)} ${String(r.passed).padStart(6)} passed ${
      String(r.failed).padStart(4)
    } failed  ${r.seconds.toFixed(1)} s`,
  );
  passed += r.passed;
  failed += r.failed;
  const note = countNote(r);
  if (note) console.log(`       ${note}`);
}
const allOk = results.every((r) => r.ok);
if (!allOk && failed === 0) failed = results.filter((r) => !r.ok).length;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(allOk ? 0 : 1);
