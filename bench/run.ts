// `npm run bench [filter]`: runs every dist/bench/*.bench.js in its own process, then writes
// bench/results.json and prints one table. A section that fails records its error in results.json
// (sections[bench].error) and the others still run.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { BenchResult, printTable } from './lib';

type Row = BenchResult & { bench: string };
interface Section { date: string; quick: boolean; loadavg: number[]; note?: string; error?: string }

const filter = process.argv[2];
const here = __dirname;
const benchFiles = fs.readdirSync(here).filter((f) => f.endsWith('.bench.js'));
// a filter that names one section exactly (`cloud`) runs that one only; otherwise every name containing it
const files = (filter && benchFiles.includes(`${filter}.bench.js`) ? [`${filter}.bench.js`] : benchFiles.filter((f) => !filter || f.includes(filter))).sort();
const all: Row[] = [];
const sections: Record<string, Section> = {};
let failed = 0;
for (const f of files) {
  const bench = f.replace(/\.bench\.js$/, '');
  const out = path.join(os.tmpdir(), `genix-bench-${process.pid}-${f}.json`);
  process.stdout.write(`\n# ${f}\n`);
  const section: Section = { date: new Date().toISOString(), quick: process.env.GENIX_BENCH_QUICK === '1', loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  if (process.env.GENIX_BENCH_NOTE) section.note = process.env.GENIX_BENCH_NOTE;
  sections[bench] = section;
  // stdout goes to the terminal; stderr is kept as well so that a failure's reason lands in results.json
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(here, f)], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1048576, env: { ...process.env, GENIX_BENCH_OUT: out } });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0 || !fs.existsSync(out)) {
    failed++;
    const why = String(r.stderr || '').trim().slice(-2000);
    section.error = `exit ${r.status ?? r.signal}${why ? `: ${why}` : ''}`;
    process.stdout.write(`${f}: failed (exit ${r.status ?? r.signal})\n`);
    continue;
  }
  for (const res of JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResult[]) all.push({ bench, ...res });
  fs.rmSync(out, { force: true });
}
const resultsFile = path.resolve(here, '..', '..', 'bench', 'results.json');
// A filtered run (`npm run bench anomaly`) replaces only the sections it ran; the others are kept.
let kept: Row[] = [];
let keptSections: Record<string, Section> = {};
if (filter && fs.existsSync(resultsFile)) {
  try {
    const old = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    const ran = new Set(files.map((f) => f.replace(/\.bench\.js$/, '')));
    kept = (old.results as Row[]).filter((r) => !ran.has(r.bench));
    keptSections = Object.fromEntries(Object.entries((old.sections ?? {}) as Record<string, Section>).filter(([b]) => !ran.has(b)));
  } catch { kept = []; }
}
const merged = [...kept, ...all].sort((a, b) => (a.bench < b.bench ? -1 : a.bench > b.bench ? 1 : 0));
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, memMb: Math.round(os.totalmem() / 1048576) };
fs.writeFileSync(resultsFile, `${JSON.stringify({ date: new Date().toISOString(), machine, sections: { ...keptSections, ...sections }, results: merged }, null, 2)}\n`);
process.stdout.write(`\n# all benchmarks (${resultsFile})\n`);
printTable(all);
if (failed) {
  process.stdout.write(`${failed} benchmark file(s) failed (their errors are in results.json, sections)\n`);
  process.exit(1);
}
