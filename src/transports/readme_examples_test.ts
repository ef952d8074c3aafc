// Runs the README's usage examples as a user would, each on its own runtime: on Node and Bun
// from the npm tarball installed (offline) into a fresh project, with the npm package's own
// README example too; on Deno through the JSR names, with `links` pointing `@gotalk/gotalk` at
// this checkout so that Deno resolves the entry points from deno.json exactly as JSR would. The
// blocks are written out as they are in the README: an example that drifts from the package
// fails here. One install per runtime, shared by every example.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeName } from "./_test_factories.ts";
import { examples, installPackages, installTarball, root, sh } from "./_test_readme.ts";

const runtime = runtimeName();
const title = { deno: "Deno", bun: "Bun", node: "Node" }[runtime];

/**
 * A project whose `@gotalk/gotalk` is this checkout, as `deno add` plus `links` makes it; the
 * npm names (`gotalk`, `gotalk/otel`, …) of the examples written for every runtime map to it
 * too, and npm packages come from the project's node_modules.
 */
function linkCheckout(dir: string): void {
  const { version, exports } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({
      imports: {
        "@gotalk/gotalk": `jsr:@gotalk/gotalk@^${version}`,
        ...Object.fromEntries(
          Object.keys(exports).map((key) => [
            key === "." ? "gotalk" : `gotalk/${key.slice(2)}`,
            `jsr:@gotalk/gotalk@^${version}${key.slice(1)}`,
          ]),
        ),
      },
      links: [root],
      nodeModulesDir: "manual",
    }),
  );
}

/** The README's examples that every runtime runs as they are (npm names), and what they need. */
const SHARED_EXAMPLES = ["middleware-auth.mjs", "telemetry.mjs"];
const OTEL_PACKAGES = [
  "api",
  "core",
  "resources",
  "semantic-conventions",
  "sdk-trace",
  "sdk-trace-base",
].map((name) => `@opentelemetry/${name}`);

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(dir: string, file: string, env: Record<string, string>): Running {
  const args = runtime === "deno" ? ["run", "-A", file] : [file];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, ...env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => out += d);
  child.stderr!.on("data", (d) => out += d);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { child, output: () => out, exited };
}

/** `promise`, or `fallback` after `ms` (the timer does not keep the process alive after). */
async function orAfter<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((r) => timer = setTimeout(() => r(fallback), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs an example to its exit (bounded): its exit code (or "timeout") and its output. */
async function run(dir: string, file: string, env: Record<string, string>) {
  const p = start(dir, file, env);
  const code = await orAfter(p.exited, 60_000, "timeout" as const);
  if (code === "timeout") p.child.kill("SIGKILL");
  return { code, output: p.output() };
}

/** Runs an example to its exit (bounded) and returns its output; it must exit 0. */
async function runToEnd(dir: string, file: string, env: Record<string, string>): Promise<string> {
  const { code, output } = await run(dir, file, env);
  assert.equal(code, 0, `${file} exited ${code}: ${output}`);
  return output;
}

describe(`README examples on ${title}, as installed`, () => {
  const ext = runtime === "node" ? "mjs" : "ts";
  const prefix = { deno: "deno", bun: "bun", node: "node" }[runtime];
  const readme = examples(readFileSync(join(root, "README.md"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "gotalk-readme-"));
  let server: Running | undefined;
  let ports = { tcp: "", ws: "" };
  let packageFiles: string[] = [];

  before(async () => {
    if (runtime === "deno") linkCheckout(dir);
    else packageFiles = installTarball(dir);
    installPackages(dir, OTEL_PACKAGES);
    for (const name of SHARED_EXAMPLES) {
      assert.ok(readme.has(name), `README has ${name}`);
      writeFileSync(join(dir, name), readme.get(name)!);
    }
    const names = [
      `${prefix}-server.${ext}`,
      `${prefix}-client.${ext}`,
      `${prefix}-ws-client.${ext}`,
    ];
    for (const name of names) {
      assert.ok(readme.has(name), `README has ${name} (it has ${[...readme.keys()]})`);
      writeFileSync(join(dir, name), readme.get(name)!);
    }
    server = start(dir, names[0], { PORT: "0", WS_PORT: "0" });
    const listening =
      /listening on tcp:\/\/127\.0\.0\.1:(\d+) and ws:\/\/127\.0\.0\.1:(\d+)\/gotalk\//;
    await until(
      () => listening.test(server!.output()),
      60_000,
      () => `server: ${server!.output()}`,
    );
    const m = listening.exec(server.output())!;
    ports = { tcp: m[1], ws: m[2] };
  });

  after(async () => {
    if (server) {
      server.child.kill("SIGTERM");
      if (await orAfter(server.exited, 5000, "timeout") === "timeout") server.child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${prefix}-client.${ext} over TCP: a request answered, a notification received`, async () => {
    const out = await runToEnd(dir, `${prefix}-client.${ext}`, { PORT: ports.tcp });
    assert.match(out, new RegExp(`Hello, ${title}!`));
    await until(
      () => server!.output().includes(`client says: bye from ${title}`),
      10_000,
      () => `notification: ${server!.output()}`,
    );
  });

  test(`${prefix}-ws-client.${ext} over WebSocket`, async () => {
    const out = await runToEnd(dir, `${prefix}-ws-client.${ext}`, { WS_PORT: ports.ws });
    assert.match(out, new RegExp(`Hello, ${title} over WebSocket!`));
  });

  test(`${prefix}-workers.${ext}: two workers of the example serve one port`, async () => {
    const name = `${prefix}-workers.${ext}`;
    assert.ok(readme.has(name), `README has ${name}`);
    writeFileSync(join(dir, name), readme.get(name)!);
    // The example takes its port from PORT, so the test picks a free one first; between that
    // pick and the workers' listen another process on this machine may take it (an outgoing
    // connection's local port), which is the one failure a new port is tried for (at most three).
    for (let attempt = 1;; attempt++) {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, resolve));
      const port = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      const { code, output } = await run(dir, name, { PORT: String(port) });
      if (code !== 0 && attempt < 3 && /AddrInUse|EADDRINUSE/.test(output)) continue;
      assert.equal(code, 0, `${name} exited ${code}: ${output}`);
      assert.match(output, new RegExp(`^2 workers answered on port ${port}$`, "m"));
      break;
    }
  });

  test("middleware-auth.mjs: middleware, an interceptor, onConnect refusing before the upgrade", async () => {
    const out = await runToEnd(dir, "middleware-auth.mjs", {});
    assert.match(out, /^whoami: ada$/m);
    assert.match(out, /^admin\.reset: .*Forbidden for ada$/m);
    assert.match(out, /^no cookie: .*401/m);
    assert.match(out, /^sent: whoami, admin\.reset$/m);
    assert.match(out, /^ada: whoami in \d+\.\d ms$/m);
    assert.match(out, /^ada: admin\.reset in \d+\.\d ms$/m);
  });

  test("telemetry.mjs: request events and OpenTelemetry spans", async () => {
    const out = await runToEnd(dir, "telemetry.mjs", {});
    assert.match(out, /^event: in upper ok, 7 B in, 7 B out$/m);
    assert.match(out, /^HELLO$/m);
    assert.equal(out.match(/^span: chat\/upper gotalk upper$/gm)?.length, 2, out);
  });

  if (runtime !== "deno") {
    test("the npm package's gotalk command: npx gotalk --help, node_modules/.bin/gotalk call", () => {
      const help = sh("npx", ["--offline", "gotalk", "--help"], dir);
      assert.match(help, /Usage: gotalk COMMAND/);
      const out = sh(
        join(dir, "node_modules", ".bin", "gotalk"),
        ["call", `tcp://127.0.0.1:${ports.tcp}`, "greet", '"gotalk"'],
        dir,
      );
      assert.equal(out, '"Hello, gotalk!"\n');
    });

    test("the npm package: its own README's example runs; no tests, sources or build files", async () => {
      const npmReadme = readFileSync(join(dir, "node_modules", "gotalk", "README.md"), "utf8");
      const ex = examples(npmReadme).get("npm-readme.mjs");
      assert.ok(ex, "the npm README has its example");
      writeFileSync(join(dir, "npm-readme.mjs"), ex);
      assert.match(await runToEnd(dir, "npm-readme.mjs", {}), /Hello, npm!/);
      const pkg = JSON.parse(
        readFileSync(join(dir, "node_modules", "gotalk", "package.json"), "utf8"),
      );
      for (const field of ["repository", "homepage", "keywords", "license", "engines"]) {
        assert.ok(pkg[field], `package.json has ${field}`);
      }
      assert.equal(pkg.engines.node, ">=20");
      // The otel entry point's one import: an optional peer dependency, the app's own copy.
      assert.equal(pkg.peerDependencies["@opentelemetry/api"], "^1.9.0");
      assert.equal(pkg.peerDependenciesMeta["@opentelemetry/api"].optional, true);
      // ws's native unmasking: optional too (nothing is installed for it unless the app adds it).
      assert.equal(pkg.peerDependenciesMeta.bufferutil.optional, true);
      assert.ok(packageFiles.includes("esm/src/otel/mod.js"));
      assert.ok(packageFiles.includes("esm/src/server/browser_bundle.js"));
      const stray = packageFiles.filter((f) =>
        /(_test|_bench)\.(js|d\.ts)$|\/_test_|(?<!\.d)\.ts$/.test(f)
      );
      assert.deepEqual(stray, []);
    });
  }
});
