// Runs the README's "Typed contracts" examples (contracts.ts, validation.ts, codec.ts) on each
// runtime: each block is written out with `@gotalk/gotalk` pointing at this checkout (the
// compiled one on Node), its types stripped by TypeScript, and imported; its assertions are the
// test. On Deno the block is also type-checked as written, so its `@ts-expect-error` lines count.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { runtimeName } from "./_test_factories.ts";
import { examples, root } from "./_test_readme.ts";

const runtime = runtimeName();
const blocks = examples(readFileSync(join(root, "README.md"), "utf8"));
const dir = join(root, ".build", "readme-contracts");

describe(`README typed contracts examples on ${runtime}`, () => {
  for (const name of ["contracts.ts", "validation.ts", "codec.ts"]) {
    it(`${name} runs`, async () => {
      const code = blocks.get(name);
      assert.ok(code, `README has ${name}`);
      mkdirSync(dir, { recursive: true });
      if (runtime === "deno") {
        const typed = join(dir, name);
        writeFileSync(typed, code);
        const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
        const r = spawnSync(deno, ["check", "--quiet", typed], { cwd: root, encoding: "utf8" });
        assert.equal(r.status, 0, `deno check ${name}: ${r.stdout}${r.stderr}`);
      }
      const mod = join(root, ...(runtime === "node" ? [".build", "node", "mod.js"] : ["mod.ts"]));
      const local = code.replaceAll('"@gotalk/gotalk"', JSON.stringify(pathToFileURL(mod).href));
      const js = ts.transpileModule(local, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const file = join(dir, `${runtime}-${name.replace(/\.ts$/, ".mjs")}`);
      writeFileSync(file, js);
      await import(pathToFileURL(file).href);
    });
  }
});
