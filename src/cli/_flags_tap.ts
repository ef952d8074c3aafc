// Flag parsing for `gotalk tap`, `replay`, `check` and `bench`: `--name VALUE`, `--name=VALUE`
// and boolean `--name`; everything else is positional. Internal to the command.

import { UsageError } from "./_url.ts";

/** The flags a subcommand takes: boolean ones and ones with a value. */
export interface FlagSpec {
  readonly booleans?: readonly string[];
  readonly values?: readonly string[];
}

/** Parsed flags: `values` by name (without `--`), `booleans` that were given, positionals. */
export interface Parsed {
  readonly values: Map<string, string>;
  readonly booleans: Set<string>;
  readonly positional: string[];
}

/**
 * Parses `argv` against `spec`.
 *
 * @throws {UsageError} For an unknown flag or a missing value.
 */
export function parseFlags(command: string, argv: readonly string[], spec: FlagSpec): Parsed {
  const values = new Map<string, string>();
  const booleans = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.booleans?.includes(name)) {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      booleans.add(name);
    } else if (spec.values?.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${command}: --${name} needs a value`);
      values.set(name, v);
    } else {
      throw new UsageError(`${command}: unknown flag --${name} (see ${command} --help)`);
    }
  }
  return { values, booleans, positional };
}

/**
 * A non-negative number flag, or `fallback` when absent. A duration may end in `ms` or `s`
 * (`--duration 5s`); a plain number is in the flag's own unit.
 *
 * @throws {UsageError} If the value is not a non-negative number.
 */
export function numberFlag(
  command: string,
  parsed: Parsed,
  name: string,
  fallback: number,
  unit: "" | "ms" = "",
): number {
  const v = parsed.values.get(name);
  if (v === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  if (!m || (m[2] !== undefined && unit !== "ms")) {
    throw new UsageError(
      `${command}: --${name} takes a non-negative number${unit ? " (e.g. 500ms, 5s)" : ""}`,
    );
  }
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}
