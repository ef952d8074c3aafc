// deno-lint-ignore-file no-console
/**
 * What heap snapshot B holds more than snapshot A, per item, by node type and name (constructor
 * for objects, the function's name for closures): count and self bytes, largest first. Made for
 * the snapshots of `bench/_peer_heap.ts --snapshot PREFIX`.
 *
 * Run: `deno run -R bench/_heap_diff.ts A.heapsnapshot B.heapsnapshot [--n 2000] [--top 40]`.
 *
 * @module
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size of every (type, name) in `file`. */
function tally(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(Deno.readTextFileSync(file)) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]];
    let name = s.strings[s.nodes[i + iName]];
    if (type === "string" || type === "concatenated string" || type === "sliced string") {
      name = "";
    } else if (name.length > 60) name = name.slice(0, 60);
    const key = `${type}\t${name}`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + iSize];
    out.set(key, t);
  }
  return out;
}

const [a, b, ...rest] = Deno.args;
if (!a || !b) throw new Error("usage: _heap_diff.ts A.heapsnapshot B.heapsnapshot [--n N]");
const opt = (name: string, fallback: number) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};
const n = opt("n", 2000);
const top = opt("top", 40);
const ta = tally(a);
const tb = tally(b);
const rows: { key: string; count: number; bytes: number }[] = [];
for (const [key, v] of tb) {
  const w = ta.get(key) ?? { count: 0, bytes: 0 };
  rows.push({ key, count: (v.count - w.count) / n, bytes: (v.bytes - w.bytes) / n });
}
for (const [key, w] of ta) {
  if (!tb.has(key)) rows.push({ key, count: -w.count / n, bytes: -w.bytes / n });
}
rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
let total = 0;
const byType = new Map<string, { count: number; bytes: number }>();
for (const r of rows) {
  total += r.bytes;
  const type = r.key.split("\t")[0];
  const t = byType.get(type) ?? { count: 0, bytes: 0 };
  t.count += r.count;
  t.bytes += r.bytes;
  byType.set(type, t);
}
console.log(`per item (n=${n}): ${total.toFixed(0)} bytes`);
console.log("by type:");
for (const [type, t] of [...byType].sort((x, y) => y[1].bytes - x[1].bytes)) {
  if (Math.abs(t.bytes) >= 1) {
    console.log(`  ${t.bytes.toFixed(0).padStart(6)} B ${t.count.toFixed(2).padStart(7)}  ${type}`);
  }
}
console.log(`top ${top}:`);
for (const r of rows.slice(0, top)) {
  const [type, name] = r.key.split("\t");
  console.log(
    `  ${r.bytes.toFixed(0).padStart(6)} B ${r.count.toFixed(2).padStart(7)}  ${type} ${name}`,
  );
}
