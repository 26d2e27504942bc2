// `npm run bench [filter]`: runs every dist/bench/*.bench.js in its own process, then writes
// bench/results.json and prints one table.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { BenchResult, printTable } from './lib';

const filter = process.argv[2];
const here = __dirname;
const files = fs.readdirSync(here).filter((f) => f.endsWith('.bench.js') && (!filter || f.includes(filter))).sort();
const all: Array<BenchResult & { bench: string }> = [];
let failed = 0;
for (const f of files) {
  const out = path.join(os.tmpdir(), `genix-bench-${process.pid}-${f}.json`);
  process.stdout.write(`\n# ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(here, f)], { stdio: 'inherit', env: { ...process.env, GENIX_BENCH_OUT: out } });
  if (r.status !== 0 || !fs.existsSync(out)) {
    failed++;
    process.stdout.write(`${f}: failed (exit ${r.status})\n`);
    continue;
  }
  for (const res of JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResult[]) all.push({ bench: f.replace(/\.bench\.js$/, ''), ...res });
  fs.rmSync(out, { force: true });
}
const resultsFile = path.resolve(here, '..', '..', 'bench', 'results.json');
// A filtered run (`npm run bench anomaly`) replaces only the sections it ran; the others are kept.
let kept: Array<BenchResult & { bench: string }> = [];
if (filter && fs.existsSync(resultsFile)) {
  try {
    const ran = new Set(files.map((f) => f.replace(/\.bench\.js$/, '')));
    kept = (JSON.parse(fs.readFileSync(resultsFile, 'utf8')).results as Array<BenchResult & { bench: string }>).filter((r) => !ran.has(r.bench));
  } catch { kept = []; }
}
const merged = [...kept, ...all].sort((a, b) => (a.bench < b.bench ? -1 : a.bench > b.bench ? 1 : 0));
fs.writeFileSync(resultsFile, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, results: merged }, null, 2));
process.stdout.write(`\n# all benchmarks (${resultsFile})\n`);
printTable(all);
if (failed) {
  process.stdout.write(`${failed} benchmark file(s) failed\n`);
  process.exit(1);
}
