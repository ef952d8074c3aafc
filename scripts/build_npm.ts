// deno-lint-ignore-file no-console
/**
 * Builds the npm package into `npm/` (ESM + `.d.ts`) with TypeScript from npm: our stand-in for
 * dnt, which needs JSR. Also compiles the tests into `.build/node/` so that Node 20, which cannot
 * strip types, runs the same `node:test` suites against the same compiled code.
 *
 * Run: `deno run -A scripts/build_npm.ts` (or `bun scripts/build_npm.ts`).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBrowserBundle } from "./build_browser.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

function compile(outDir: string, files: string[], declaration: boolean): void {
  rmSync(outDir, { recursive: true, force: true });
  const config = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      types: ["node"],
      strict: true,
      declaration,
      sourceMap: false,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      skipLibCheck: true,
      outDir,
      rootDir: root,
    },
    files,
  };
  mkdirSync(join(root, ".build"), { recursive: true });
  const configPath = join(root, ".build", `tsconfig.${declaration ? "npm" : "test"}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  try {
    execFileSync("node", [tsc, "-p", configPath], {
      cwd: root,
      stdio: "inherit",
    });
  } finally {
    rmSync(configPath, { force: true });
  }
}

function listTs(dir: string, filter: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && filter(p)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const isTest = (f: string) => /_test\.ts$|_bench\.ts$|[\\/]_test_[^\\/]*\.ts$/.test(f);
// The browser tests (headless Chromium, driven from Deno) run only in the test command's browser
// step: they stay out of the Node build.
const browserTests = join(root, "src", "_browser") + sep;
const isNodeTest = (f: string) =>
  isTest(f) && !f.endsWith("_bench.ts") && !f.startsWith(browserTests);
const exports: Record<string, string> = denoJson.exports;
const entryFiles = Object.values(exports).map((p) => join(root, p));

// 1. The npm package: library sources only, with the browser bundle built from them first (the
// `./browser-bundle` entry point exports it as a string constant).
await buildBrowserBundle();
const npmDir = join(root, "npm");
rmSync(npmDir, { recursive: true, force: true });
compile(join(npmDir, "esm"), entryFiles, true);
// Where the package lives: the workspace's package.json says it once.
const workspace = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pkgExports: Record<string, { types: string; default: string }> = {};
// The command line entry point runs when imported: it is the package's `bin`, not an export.
const CLI = "./cli";
for (const [key, path] of Object.entries(exports)) {
  if (key === CLI) continue;
  const base = "./esm/" + path.replace(/^\.\//, "").replace(/\.ts$/, "");
  pkgExports[key] = { types: base + ".d.ts", default: base + ".js" };
}
writeFileSync(
  join(npmDir, "package.json"),
  JSON.stringify(
    {
      name: "gotalk",
      version: denoJson.version,
      description: "The Gotalk v1 RPC protocol for Node, Bun, Deno and browsers: both ends " +
        "serve and send requests (JSON, bytes, streams) and notifications over TCP, TLS or WebSocket",
      license: denoJson.license,
      repository: workspace.repository,
      homepage: workspace.homepage,
      bugs: workspace.bugs,
      keywords: workspace.keywords,
      type: "module",
      exports: pkgExports,
      bin: { gotalk: "./esm/" + exports[CLI].replace(/^\.\//, "").replace(/\.ts$/, ".js") },
      // The compiled library only: no tests, benchmarks, sources or build files.
      files: ["esm/", "README.md", "LICENSE"],
      engines: { node: ">=20" },
      // Only the websocket-node entry point uses it (Node 20 has no WebSocket server or client).
      dependencies: { ws: "^8.18.0" },
      // Only the nats entry point (types: it takes the caller's NatsConnection) and the otel entry
      // point (applications bring their own OpenTelemetry setup) use the first two; `ws` uses
      // `bufferutil` when it is installed, to unmask what WebSocket clients send natively.
      peerDependencies: {
        "@nats-io/nats-core": "^3.4.0",
        "@opentelemetry/api": "^1.9.0",
        bufferutil: "^4.0.0",
      },
      peerDependenciesMeta: {
        "@nats-io/nats-core": { optional: true },
        "@opentelemetry/api": { optional: true },
        bufferutil: { optional: true },
      },
      sideEffects: false,
    },
    null,
    2,
  ) + "\n",
);
// The package's own README: install, entry points and one example for npm users (the
// workspace's README is about developing this repository).
cpSync(join(root, "scripts", "npm_readme.md"), join(npmDir, "README.md"));
cpSync(join(root, "LICENSE"), join(npmDir, "LICENSE"));

// 2. The Node test build: the library, its tests, and the conformance peer, so that Node runs
// the same suites and peer as Deno and Bun, compiled exactly as the npm package is.
const testFiles = [
  ...entryFiles,
  ...listTs(join(root, "src"), isNodeTest),
  join(root, "conformance", "peer.ts"),
  // The command, which the src/cli tests run as a child process (they do not import it).
  join(root, "src", "cli", "gotalk.ts"),
];
const testOut = join(root, ".build", "node");
mkdirSync(testOut, { recursive: true });
compile(testOut, testFiles, false);
writeFileSync(join(testOut, "package.json"), '{"type":"module"}\n');
// Test fixtures travel with the compiled tests.
const copyTestdata = (dir: string) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.name === "testdata") cpSync(p, join(testOut, p.slice(root.length)), { recursive: true });
    else copyTestdata(p);
  }
};
copyTestdata(join(root, "src"));
console.log(
  `npm package in npm/ (${Object.keys(exports).length} entry points); tests in .build/node/`,
);
