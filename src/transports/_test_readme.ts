/**
 * Helpers of the tests that run README examples as users install them: the examples of a
 * README, and a fresh project with the npm tarball installed offline.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8 && !existsSync(join(dir, "deno.json")); i++) dir = dirname(dir);
  return dir;
}

/** The repository's root (the compiled Node tests find it from `.build/node/`). */
export const root: string = repoRoot();

/** The code blocks of a README whose first line is `// example: NAME` (`<!-- … -->` in HTML). */
export function examples(readme: string): Map<string, string> {
  const out = new Map<string, string>();
  const blocks =
    /```(?:ts|js)\n\/\/ example: (\S+)\n([\s\S]*?)```|```html\n<!-- example: (\S+) -->\n([\s\S]*?)```/g;
  for (const m of readme.matchAll(blocks)) out.set(m[1] ?? m[3], m[2] ?? m[4]);
  return out;
}

/** Runs a command to completion (bounded), failing with its output. */
export function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000 });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${r.status}: ${r.error ?? ""}\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * Installs `names` into the project `dir` offline: each is packed from the workspace's
 * node_modules (where `npm ci` put them) and installed from its tarball, so nothing is fetched.
 */
export function installPackages(dir: string, names: string[]): void {
  if (!existsSync(join(dir, "package.json"))) {
    writeFileSync(
      join(dir, "package.json"),
      '{ "name": "app", "private": true, "type": "module" }\n',
    );
  }
  const tarballs = names.map((name) => {
    const [packed] = JSON.parse(
      sh(
        "npm",
        ["pack", "--json", "--pack-destination", dir, join(root, "node_modules", name)],
        root,
      ),
    );
    return packed.filename as string;
  });
  sh("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], dir);
}

/**
 * A fresh project with the npm tarball installed, offline. `ws`, the package's one dependency,
 * is packed from the workspace's node_modules (where `npm ci` put it), so nothing is fetched.
 */
export function installTarball(dir: string): string[] {
  if (!existsSync(join(root, "npm", "package.json"))) {
    sh(join(root, "node_modules", ".bin", "deno"), ["run", "-A", "scripts/build_npm.ts"], root);
  }
  const packed = JSON.parse(
    sh("npm", ["pack", "--json", "--pack-destination", dir, "./npm"], root),
  );
  sh("npm", ["pack", "--pack-destination", dir, join(root, "node_modules", "ws")], root);
  const ws = readdirSync(dir).find((f) => /^ws-.*\.tgz$/.test(f))!;
  writeFileSync(
    join(dir, "package.json"),
    '{ "name": "app", "private": true, "type": "module" }\n',
  );
  sh("npm", ["install", "--offline", "--no-audit", "--no-fund", packed[0].filename, ws], dir);
  return packed[0].files.map((f: { path: string }) => f.path);
}
