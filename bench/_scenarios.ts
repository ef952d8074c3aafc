/**
 * The measured tables of `bench/bench.ts` that drive go-load or our bench client: the scenario
 * lists (TCP server rows, their WebSocket variants, client rows), the rounds that measure each
 * implementation in turn, and the runners of the server, client and peak memory tables.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import {
  CLIENT,
  errorText,
  goLoad,
  GOTALKJS_CLIENT,
  type Impl,
  procStatus,
  runJson,
  type Running,
  sleep,
  startServer,
} from "./_procs.ts";
import {
  addMemoryRatios,
  addRatios,
  fmtInt,
  fmtNum,
  type Measured,
  type MemoryRow,
  type Row,
} from "./_report.ts";

/** How each scenario is measured: `rounds` rounds of a warm-up and a fixed duration. */
export interface Timing {
  rounds: number;
  warmupMs: number;
  durationMs: number;
}

/** One row of a throughput table. */
export interface Scenario {
  id: string;
  label: string;
  size: number;
  inflight: number;
  conns: number;
  /** go-load arguments (the server rows) for a round (0: the first). */
  load(round: number): string[];
}

/** The warm-up of a round: the full one first, a short one (new connections) after. */
function warmup(t: Timing, round: number): number {
  return round === 0 ? t.warmupMs : Math.min(t.warmupMs, 250);
}

function timing(t: Timing, round: number): string[] {
  return ["--warmup", `${warmup(t, round)}ms`, "--duration", `${t.durationMs}ms`];
}

/** The scenario lists of one run. */
export interface Scenarios {
  /** The server rows over TCP. */
  tcp: Scenario[];
  /** The server rows over WebSocket. */
  ws: Scenario[];
  /** The client rows (against the Go server). */
  client: Scenario[];
}

/** The scenarios, smaller with `quick`. */
export function scenarios(quick: boolean, t: Timing): Scenarios {
  const pipeline = (
    id: string,
    label: string,
    size: number,
    inflight: number,
    conns = 1,
  ): Scenario => ({
    id,
    label,
    size,
    inflight,
    conns,
    load: (round) => [
      "pipeline",
      "--size",
      String(size),
      "--inflight",
      String(inflight),
      "--conns",
      String(conns),
      ...timing(t, round),
    ],
  });
  const manyConns = quick ? 10 : 100;
  const streamBytes = quick ? "8MiB" : "256MiB";
  const tcp: Scenario[] = [
    pipeline("16b-x1", "16 B, 1 in flight, 1 conn", 16, 1),
    pipeline("16b-x64", "16 B, 64 in flight, 1 conn", 16, 64),
    pipeline("1k-x64", "1 KiB, 64 in flight, 1 conn", 1024, 64),
    pipeline("64k-x16", "64 KiB echo, 16 in flight, 1 conn", 65536, 16),
    {
      id: "stream-256m",
      label: `${streamBytes} through stream-echo (64 KiB parts, 4 MiB window)`,
      size: 65536,
      inflight: 64,
      conns: 1,
      load: (round) => [
        "stream",
        "--bytes",
        streamBytes,
        "--part",
        "64KiB",
        "--window",
        "4MiB",
        "--warmup-bytes",
        round > 0 ? "0" : quick ? "1MiB" : "32MiB",
      ],
    },
    pipeline(`${manyConns}c-x16`, `16 B, ${manyConns} conns x 16 in flight`, 16, 16, manyConns),
  ];
  const wsConns = quick ? 10 : 50;
  const wsMany = () =>
    pipeline(`${wsConns}c-x16`, `16 B, ${wsConns} conns x 16 in flight`, 16, 16, wsConns);
  const ws: Scenario[] = [
    ...tcp.filter((s) => !s.id.startsWith("stream") && s.conns === 1).map((s) => overWebSocket(s)),
    overWebSocket(wsMany()),
    overWebSocket(tcp[1], true),
    overWebSocket(tcp[2], true),
    overWebSocket(wsMany(), true),
  ];
  const client: Scenario[] = [
    pipeline("client-16b-x1", "client: 16 B, 1 in flight", 16, 1),
    pipeline("client-16b-x64", "client: 16 B, 64 in flight", 16, 64),
    pipeline("client-64k-x16", "client: 64 KiB echo, 16 in flight", 65536, 16),
  ];
  return { tcp, ws, client };
}

/** A server row over WebSocket: two messages per request, or one (`coalesce`). */
function overWebSocket(s: Scenario, coalesce = false): Scenario {
  return {
    ...s,
    id: `ws-${s.id}${coalesce ? "-1msg" : ""}`,
    label: `ws: ${s.label}${coalesce ? ", 1 msg" : ""}`,
    load: (round) => [...s.load(round), "--ws", "/gotalk/", ...(coalesce ? ["--coalesce"] : [])],
  };
}

/** A table's rows and how many of its measurements failed. */
export interface Table<R> {
  rows: R[];
  failures: number;
}

function measured(r: Record<string, unknown>): Measured {
  return {
    requests: Number(r.requests),
    seconds: Number(r.seconds),
    rps: Number(r.rps),
    mbps: Number(r.mbps),
    p50_us: Number(r.p50_us),
    p99_us: Number(r.p99_us),
  };
}

function loadTimeout(t: Timing, s: Scenario): number {
  return s.id.startsWith("stream") ? 120_000 : t.warmupMs + t.durationMs + 30_000;
}

/**
 * Measures `impls` on `scenarios`: for each scenario, `rounds` rounds, each running `measure`
 * for every implementation in turn (the order rotates), and keeps each one's median round.
 */
async function measureRounds(
  scenarios: Scenario[],
  impls: string[],
  t: Timing,
  measure: (s: Scenario, impl: string, round: number) => Promise<Measured>,
): Promise<Table<Row>> {
  const rows: Row[] = [];
  let failures = 0;
  for (const s of scenarios) {
    const results = new Map<string, Measured[]>(impls.map((i) => [i, []]));
    const errors = new Map<string, string>();
    for (let round = 0; round < t.rounds; round++) {
      const order = impls.map((_, k) => impls[(k + round) % impls.length]);
      for (const impl of order) {
        if (errors.has(impl)) continue;
        try {
          results.get(impl)!.push(await measure(s, impl, round));
        } catch (e) {
          errors.set(impl, errorText(e));
        }
      }
    }
    for (const impl of impls) {
      const row: Row = { scenario: s.id, label: s.label, impl };
      const error = errors.get(impl);
      if (error !== undefined) {
        failures++;
        row.error = error;
        console.log(`${impl.padEnd(11)} ${s.label}: FAILED ${error}`);
      } else {
        const all = results.get(impl)!;
        const sorted = [...all].sort((a, b) => a.rps - b.rps);
        Object.assign(row, sorted[Math.floor((sorted.length - 1) / 2)]);
        row.rounds_rps = all.map((m) => Math.round(m.rps));
        console.log(
          `${impl.padEnd(11)} ${s.label.padEnd(56)} ${fmtInt(row.rps!).padStart(10)} req/s ` +
            `${fmtNum(row.mbps!).padStart(8)} MB/s  p50 ${fmtNum(row.p50_us!)} µs  p99 ${
              fmtNum(row.p99_us!)
            } µs`,
        );
      }
      rows.push(row);
    }
  }
  return { rows, failures };
}

/**
 * Starts `impls`' servers over `transport`, all at once (an idle one costs nothing), and measures
 * `scenarios` against them with go-load.
 */
export async function serverTable(
  scenarios: Scenario[],
  impls: Impl[],
  transport: "tcp" | "ws",
  t: Timing,
): Promise<Table<Row>> {
  const running = new Map<string, Running>();
  let failures = 0;
  for (const impl of impls) {
    try {
      running.set(impl, await startServer(impl, transport));
    } catch (e) {
      failures++;
      console.log(`${impl} (${transport}): ${errorText(e)}`);
    }
  }
  const table = await measureRounds(
    scenarios,
    impls.filter((i) => running.has(i)),
    t,
    async (s, impl, round) =>
      measured(
        await runJson(
          [goLoad, ...s.load(round), "--addr", running.get(impl)!.addr],
          loadTimeout(t, s),
        ),
      ),
  );
  await Promise.all([...running.values()].map((r) => r.stop()));
  addRatios(table.rows);
  return { rows: table.rows, failures: failures + table.failures };
}

/**
 * Measures each of `clients` against one Go server. Over TCP: ours on a runtime, or `go`
 * (gotalk's own client in go-load), ratios to `go`. Over WebSocket: gotalk.js (the reference's
 * browser client) on Bun, and ours on each runtime as it is by default and with
 * `coalesceWrites` (`+c`), ratios to gotalk.js.
 */
export async function clientTable(
  scenarios: Scenario[],
  clients: Impl[],
  t: Timing,
  transport: "tcp" | "ws" = "tcp",
): Promise<Table<Row>> {
  let server: Running | undefined;
  try {
    server = await startServer("go", transport);
  } catch (e) {
    console.log(`go server for the client rows: ${errorText(e)}`);
    return { rows: [], failures: 1 };
  }
  const addr = server.addr;
  const ws = transport === "ws";
  const url = ws ? `ws://${addr}/gotalk/` : `tcp://${addr}`;
  const names = ws
    ? [
      GOTALKJS,
      ...clients.filter((c) => c !== "go").flatMap((c) => [`${c} client`, `${c}+c client`]),
    ]
    : clients.map((c) => `${c} client`);
  const table = await measureRounds(scenarios, names, t, async (s, name, round) => {
    const impl = name.split(" ")[0];
    const shape = ["--size", String(s.size), "--inflight", String(s.inflight)];
    const ours = [
      "bench",
      "--url",
      url,
      ...shape,
      "--warmup-ms",
      String(warmup(t, round)),
      "--duration-ms",
      String(t.durationMs),
    ];
    const cmd = impl === "go"
      ? [goLoad, "gotalk-client", "--addr", addr, ...shape, ...timing(t, round)]
      : name === GOTALKJS
      ? [...GOTALKJS_CLIENT, ...ours]
      : impl.endsWith("+c")
      ? [...CLIENT[impl.slice(0, -2) as Exclude<Impl, "go">], ...ours, "--coalesce"]
      : [...CLIENT[impl as Exclude<Impl, "go">], ...ours];
    return measured(await runJson(cmd, loadTimeout(t, s)));
  });
  await server.stop();
  addRatios(table.rows, ws ? GOTALKJS : "go client");
  return table;
}

/** The gotalk.js client's name in the WebSocket client rows. */
const GOTALKJS = "gotalk.js (bun) client";

/**
 * Peak memory: for each of `impls`, a fresh server per scenario (idle connections; `sleep`
 * requests in flight), its RSS once listening and its VmHWM after the load.
 */
export async function peakMemoryTable(impls: Impl[], quick: boolean): Promise<Table<MemoryRow>> {
  const idleConns = quick ? 50 : 1000;
  const sleepConns = quick ? 2 : 10;
  const sleepEach = quick ? 50 : 1000;
  const sleepMs = quick ? 200 : 2000;
  const MEMORY = [
    {
      id: "idle",
      label: `${fmtInt(idleConns)} idle connections`,
      load: ["idle", "--conns", String(idleConns), "--hold", quick ? "300ms" : "2s"],
    },
    {
      id: "inflight",
      label: `${fmtInt(sleepConns * sleepEach)} requests in flight (${sleepConns} conns, ` +
        `sleep ${sleepMs} ms)`,
      load: [
        "sleepers",
        "--conns",
        String(sleepConns),
        "--inflight",
        String(sleepEach),
        "--ms",
        String(sleepMs),
      ],
    },
  ];
  const rows: MemoryRow[] = [];
  let failures = 0;
  for (const impl of impls) {
    for (const m of MEMORY) {
      const row: MemoryRow = { scenario: m.id, label: m.label, impl };
      let server: Running | undefined;
      try {
        server = await startServer(impl);
        await sleep(quick ? 100 : 500);
        const pid = server.child.pid!;
        row.baseline_mib = procStatus(pid, "VmRSS");
        await runJson([goLoad, ...m.load, "--addr", server.addr], 120_000);
        // VmHWM is the peak since the process started: it covers the whole load.
        row.peak_mib = procStatus(pid, "VmHWM");
        console.log(
          `${impl.padEnd(5)} ${m.label.padEnd(56)} peak RSS ${fmtNum(row.peak_mib ?? NaN)} MiB ` +
            `(at start ${fmtNum(row.baseline_mib ?? NaN)} MiB)`,
        );
      } catch (e) {
        failures++;
        row.error = errorText(e);
        console.log(`${impl} ${m.label}: FAILED ${row.error}`);
      }
      await server?.stop();
      rows.push(row);
    }
  }
  addMemoryRatios(rows);
  return { rows, failures };
}
