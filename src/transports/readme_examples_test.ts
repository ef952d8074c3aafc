// Runs the README's usage examples, each on its own runtime: on Deno the Deno server and
// client, on Bun the Bun ones, on Node the npm client against the Node server. The blocks are
// taken from README.md as they are, with only the package specifiers pointed at this checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtimeName } from "./_test_factories.ts";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8 && !existsSync(join(dir, "README.md")); i++) dir = dirname(dir);
  return dir;
}

const root = repoRoot();
const runtime = runtimeName();

/** The README's code blocks whose first line is `// example: NAME`. */
function examples(): Map<string, string> {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/```(?:ts|js)\n\/\/ example: (\S+)\n([\s\S]*?)```/g)) {
    out.set(m[1], m[2]);
  }
  return out;
}

/** Points package specifiers at this checkout (source for Deno/Bun, the npm build for Node). */
function localize(code: string): string {
  const src = (p: string) => pathToFileURL(join(root, p)).href;
  const specifiers: Record<string, string> = {
    "@gotalk/gotalk": src("mod.ts"),
    "@gotalk/gotalk/deno": src("src/transports/deno.ts"),
    "@gotalk/gotalk/bun": src("src/transports/bun.ts"),
    "gotalk": src("npm/esm/mod.js"),
    "gotalk/node": src("npm/esm/src/transports/node.js"),
  };
  return code.replace(
    /from "([^"]+)"/g,
    (all, spec) => specifiers[spec] ? `from "${specifiers[spec]}"` : all,
  );
}

function command(file: string): [string, string[]] {
  if (runtime === "deno") return [process.execPath, ["run", "-A", file]];
  return [process.execPath, [file]];
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(file: string, env: Record<string, string>): Running {
  const [cmd, args] = command(file);
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => out += d);
  child.stderr!.on("data", (d) => out += d);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { child, output: () => out, exited };
}

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(`README examples run on ${runtime}`, async () => {
  const all = examples();
  const serverName = runtime === "bun" ? "bun-server.ts" : "deno-server.ts";
  const clientName = { deno: "deno-client.ts", bun: "bun-client.ts", node: "node-client.mjs" }[
    runtime
  ];
  assert.ok(all.has(serverName) && all.has(clientName), `README has ${[...all.keys()]}`);
  const dir = join(root, ".build", "examples", runtime);
  mkdirSync(dir, { recursive: true });
  // On Node the server is the Deno example run by a Deno child: Node cannot run TypeScript.
  let serverFile = join(dir, serverName);
  writeFileSync(serverFile, localize(all.get(serverName)!));
  const clientFile = join(dir, clientName);
  writeFileSync(clientFile, localize(all.get(clientName)!));
  let server: Running;
  if (runtime === "node") {
    const deno = join(root, "node_modules", ".bin", "deno");
    const child = spawn(deno, ["run", "-A", serverFile], {
      env: { ...process.env, PORT: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => out += d);
    child.stderr!.on("data", (d) => out += d);
    server = {
      child,
      output: () => out,
      exited: new Promise((resolve) => child.on("exit", (c) => resolve(c))),
    };
    serverFile = "";
  } else {
    server = start(serverFile, { PORT: "0" });
  }
  try {
    await until(
      () => /listening on tcp:\/\/127\.0\.0\.1:\d+/.test(server.output()),
      30_000,
      () => `server start: ${server.output()}`,
    );
    const port = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1];
    const client = start(clientFile, { PORT: port });
    const code = await Promise.race([
      client.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
    ]);
    const name = { deno: "Deno", bun: "Bun", node: "Node" }[runtime];
    assert.equal(code, 0, `client exited ${code}: ${client.output()}`);
    assert.match(client.output(), new RegExp(`Hello, ${name}!`));
    await until(
      () => server.output().includes(`client says: bye from ${name}`),
      10_000,
      () => `notification: ${server.output()}`,
    );
  } finally {
    server.child.kill("SIGTERM");
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5000))]);
  }
});
