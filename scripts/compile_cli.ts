// deno-lint-ignore-file no-console
/**
 * Builds the `gotalk` command as a single executable with `deno compile`, into
 * `.build/gotalk` (or the path given as the first argument).
 *
 * Run: `deno run -A scripts/compile_cli.ts [OUT] [--target TRIPLE]`.
 *
 * `deno compile` needs the `denort` runtime of the same Deno version: it downloads it from
 * dl.deno.land on first use (set `DENORT_BIN` to a local copy to build offline). Without either,
 * this script fails with `deno compile`'s own error, and there is no binary.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const args = process.argv.slice(2);
const t = args.indexOf("--target");
const target = t >= 0 ? ["--target", args[t + 1]] : [];
const rest = args.filter((_, i) => i !== t && i !== t + 1);
const out = rest[0] ?? join(root, ".build", "gotalk");
const r = spawnSync(deno, [
  "compile",
  // What the command does: connect, listen, read files (@FILE, --ca), run children (--spawn),
  // read the environment (NO_COLOR).
  "--allow-net",
  "--allow-read",
  "--allow-run",
  "--allow-env",
  ...target,
  "--output",
  out,
  join(root, "src", "cli", "gotalk.ts"),
], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.error(
    "deno compile failed: it needs the denort runtime (downloaded from dl.deno.land, or " +
      "DENORT_BIN=/path/to/denort)",
  );
  process.exit(1);
}
console.log(`gotalk built: ${out}`);
