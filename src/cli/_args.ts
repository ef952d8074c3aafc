// The `gotalk` command's flag parsing: `--name VALUE`, `--name=VALUE`, boolean `--name`, `-`
// as a positional (stdin), `--` ends the flags. Internal to the command.

import { UsageError } from "./_url.ts";

/** Which flags a subcommand takes: booleans, and flags with a value. */
export interface FlagSpec {
  /** Flags without a value (`--json`). */
  boolean?: readonly string[];
  /** Flags with a value (`--timeout 500`, `--timeout=500`). */
  string?: readonly string[];
}

/** Parsed arguments: flag values by name (without the dashes), and the positionals in order. */
export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positional: string[];
}

/**
 * Parses `argv` against `spec`; flags and positionals may be mixed.
 *
 * @throws {UsageError} For an unknown flag, or a value flag without its value.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const booleans = new Set(spec.boolean ?? []);
  const strings = new Set(spec.string ?? []);
  const flags: ParsedArgs["flags"] = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (strings.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else {
      throw new UsageError(`Unknown flag --${name}`);
    }
  }
  return { flags, positional };
}

/**
 * The value of an integer flag, or `fallback` when it is absent.
 *
 * @throws {UsageError} When the value is not a non-negative integer.
 */
export function intFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} takes a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The value of a string flag, or `undefined`. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" ? v : undefined;
}
