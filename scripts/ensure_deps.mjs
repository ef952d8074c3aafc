#!/usr/bin/env node
// deno-lint-ignore-file no-console
// Installs the devDependencies (`npm ci`) only when node_modules is missing or does not match
// package-lock.json, so that `npm start` and `npm test` do not reinstall on every run.
//
// "Matches" means: every package of the lockfile is installed at its locked version, as npm
// recorded it in node_modules/.package-lock.json (optional packages for other platforms are
// left out by npm and skipped here), and nothing else is installed. The install scripts of
// bun, deno and esbuild are approved in package.json's `allowScripts`, so `npm ci` prints no
// install-script warnings.
//
// Usage: node scripts/ensure_deps.mjs (exits with npm's status when it installs)
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Why node_modules needs an install, or `undefined` when it is up to date. */
function staleReason() {
  const locked = readJson(join(root, "package-lock.json"))?.packages;
  if (!locked) return "package-lock.json is missing or unreadable";
  const installed = readJson(join(root, "node_modules", ".package-lock.json"))?.packages;
  if (!installed) return "node_modules is missing";
  for (const [path, entry] of Object.entries(locked)) {
    if (path === "") continue;
    const have = installed[path];
    if (have === undefined) {
      if (entry.optional) continue; // for another platform
      return `${path} is not installed`;
    }
    if (have.version !== entry.version) {
      return `${path} is ${have.version}, package-lock.json wants ${entry.version}`;
    }
  }
  for (const path of Object.keys(installed)) {
    if (!(path in locked)) return `${path} is installed but not in package-lock.json`;
  }
  return undefined;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

const reason = staleReason();
if (reason !== undefined) {
  console.log(`Installing the dependencies (${reason}): npm ci`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (r.error) console.error(`npm ci: ${r.error.message}`);
  process.exit(r.status ?? 1);
}
