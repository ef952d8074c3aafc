/**
 * Builds the browser bundle: `browser.ts` (everything in `mod.ts`, `ReconnectingPeer` included,
 * plus the WebSocket client) as one minified ESM file, `.build/browser/gotalk.js`, with esbuild
 * from npm. Pages import it from wherever it is served, e.g. `/gotalk/gotalk.js`.
 *
 * The build fails if the bundle mentions `node:`, `Deno.` or `Bun.`: it must run in any browser.
 *
 * Run: `deno run -A scripts/build_browser.ts` (prints the path and sizes). The demo servers
 * import {@linkcode buildBrowserBundle} and build it at start-up; it also runs on Bun and Node.
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the bundle is written. */
export const BROWSER_BUNDLE_PATH: string = join(root, ".build", "browser", "gotalk.js");

/** Strings that would tie the bundle to a server runtime. */
export const FORBIDDEN_IN_BUNDLE: readonly string[] = ["node:", "Deno.", "Bun."];

/** The bundle and where it was written. */
export interface BrowserBundle {
  /** The bundle's bytes. */
  bytes: Uint8Array;
  /** The file written, `.build/browser/gotalk.js`. */
  path: string;
  /** The source files that went in, relative to the repository root. */
  inputs: string[];
}

/**
 * Bundles `browser.ts` with esbuild and writes `.build/browser/gotalk.js`.
 *
 * @param options `minify` (default `true`).
 * @returns The bundle.
 * @throws {Error} If esbuild fails or the bundle mentions a server runtime.
 */
export async function buildBrowserBundle(
  options: { minify?: boolean } = {},
): Promise<BrowserBundle> {
  const { version } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [join(root, "browser.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022", "chrome100", "firefox100", "safari16"],
      minify: options.minify ?? true,
      legalComments: "none",
      banner: {
        js: `/* gotalk for TypeScript ${version} (Gotalk v1, github.com/rsms/gotalk): ` +
          `browser bundle. MIT license. */`,
      },
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const bytes = result.outputFiles[0].contents;
    const text = new TextDecoder().decode(bytes);
    const found = FORBIDDEN_IN_BUNDLE.filter((s) => text.includes(s));
    if (found.length > 0) {
      throw new Error(`The browser bundle mentions ${found.join(", ")}: it must be runtime-free`);
    }
    mkdirSync(dirname(BROWSER_BUNDLE_PATH), { recursive: true });
    writeFileSync(BROWSER_BUNDLE_PATH, bytes);
    return {
      bytes,
      path: BROWSER_BUNDLE_PATH,
      inputs: Object.keys(result.metafile.inputs).sort(),
    };
  } finally {
    // esbuild keeps a child process for later builds; without this Deno would wait for it.
    await esbuild.stop();
  }
}

if (import.meta.main) {
  const t0 = performance.now();
  const bundle = await buildBrowserBundle();
  const ms = Math.round(performance.now() - t0);
  // deno-lint-ignore no-console
  console.log(
    `${bundle.path}: ${bundle.bytes.byteLength} bytes, ` +
      `${gzipSync(bundle.bytes).byteLength} gzipped, ${bundle.inputs.length} modules, ${ms} ms`,
  );
}
