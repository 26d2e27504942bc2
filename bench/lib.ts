// Shared benchmark plumbing: every bench/*.bench.ts calls main() with its measurements.
import fs from 'fs';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** the figure to reach, e.g. ">= 1000000" */
  target?: string;
  /** the limit or peer measured in the same run, e.g. "bare mqtt.js: 58,000 msg/s" */
  compare?: string;
  ok?: boolean;
  /** a side-by-side row against the peers (bench/peers-*.bench.ts): the README table is generated from it */
  side?: SideBySide;
}

/** One leg's figure in a side-by-side row: the median of its alternating runs, with min and max, or its error. */
export interface Figure {
  who: string;
  role: 'ours' | 'peer' | 'limit';
  version?: string;
  median?: number;
  min?: number;
  max?: number;
  runs: number[];
  /** the exact error when the leg could not install or run (shown in the README, never omitted) */
  error?: string;
  note?: string;
}

export interface SideBySide {
  /** the README row group, e.g. "genix-opcua-poller, 2,000 items @ 100 ms" */
  row: string;
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  figures: Figure[];
}

/** ok is derived from target when the bench does not set it itself. */
export function judge(r: BenchResult): BenchResult {
  if (r.ok !== undefined || !r.target) return r;
  const m = /^\s*(>=|<=|>|<)\s*([\d.,_]+)/.exec(r.target);
  if (!m) return r;
  const limit = Number(m[2].replace(/[,_]/g, ''));
  const ok = m[1] === '>=' ? r.value >= limit : m[1] === '<=' ? r.value <= limit : m[1] === '>' ? r.value > limit : r.value < limit;
  return { ...r, ok };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

export function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, r.target ?? '', r.ok === undefined ? '' : r.ok ? 'ok' : 'MISS', r.compare ?? '']);
  const head = ['benchmark', 'value', 'target', '', 'compared with'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
}

/** Runs one bench file: prints its table and hands the results to `npm run bench`. */
export function main(run: () => Promise<BenchResult[]>): void {
  run()
    .then((results) => {
      const judged = results.map(judge);
      printTable(judged);
      const out = process.env.GENIX_BENCH_OUT;
      if (out) fs.writeFileSync(out, JSON.stringify(judged));
      process.exit(0);
    })
    .catch((err) => {
      process.stderr.write(`benchmark failed: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    });
}

/** Runs fn repeatedly for at least ms milliseconds; returns operations per second. */
export function opsPerSecond(fn: () => number, ms = 2000): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1000000n;
  let now = start;
  while (now < end) {
    ops += fn();
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

/**
 * The readings of one cloud message (a reading or a JSON array of them) not seen before, by
 * sensorId and ts: at-least-once delivery may bring a reading twice.
 */
export function newReadings(payload: Buffer, seen: Set<string>): Array<{ sensorId: string; ts: number }> {
  const body = JSON.parse(payload.toString());
  const fresh = [];
  for (const r of Array.isArray(body) ? body : [body]) {
    const key = `${r.sensorId}@${r.ts}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push(r);
  }
  return fresh;
}
