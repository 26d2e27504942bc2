// The README's benchmark tables, generated from bench/results.json (one generator for the README):
//   npm run bench:readme            rewrites the sections between the markers in README.md
//   npm run bench:readme -- --check exits 1 when README.md differs from what results.json gives
// test/lib/bench-readme.test.ts checks that the README's sections equal what this produces, so no
// figure in them can be typed by hand.
import fs from 'fs';
import path from 'path';
import type { Figure, SideBySide } from './lib';
import type { Score } from './anomaly-eval';
import { SIM_FAULT_KINDS } from '../scripts/plant/anomaly-sim';

export interface ResultsFile {
  date: string;
  machine?: Record<string, unknown>;
  sections?: Record<string, { date: string; quick: boolean; loadavg: number[]; note?: string; error?: string }>;
  results: Array<{ bench: string; name: string; value: number; unit: string; compare?: string; side?: SideBySide; score?: Score }>;
}

/** A figure for a table cell: thousands separated from 100 up, three significant digits below. */
export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function shown(f: Figure | undefined, unit: string): string {
  if (!f) return '';
  if (f.median === undefined) return f.error ? `**failed**: ${cell(f.error.slice(0, 300))}` : 'not measured for this leg';
  const spread = f.runs.length > 1 ? ` (${fmt(f.min)}–${fmt(f.max)}, ${f.runs.length} runs)` : '';
  const failedLater = f.error ? `; later run failed: ${cell(f.error.slice(0, 200))}` : '';
  return `${fmt(f.median)} ${unit}${spread}${failedLater}${f.note ? `; ${cell(f.note)}` : ''}`;
}

function ratio(a: Figure | undefined, b: Figure | undefined): string {
  if (!a || !b || a.median === undefined || b.median === undefined || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}×`;
}

const label = (f: Figure) => `${cell(f.who)}${f.version ? ` ${f.version}` : ''}`;

/** The side-by-side table: our figure, each peer's, the ratio, and the limit measured first in the same run. */
export function peersTable(data: ResultsFile): string {
  const sides = data.results.filter((r) => r.side).map((r) => r.side!);
  if (sides.length === 0) return '_No side-by-side run in bench/results.json yet: run `npm run bench -- peers`._\n';
  const lines = [
    '| what | genix | alternative | its figure | genix ÷ alternative | limit (measured first) | genix ÷ limit |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of sides) {
    const ours = s.figures.find((f) => f.role === 'ours');
    const limit = s.figures.find((f) => f.role === 'limit');
    const peers = s.figures.filter((f) => f.role === 'peer');
    const what = `${cell(s.row)}: ${cell(s.metric)} (${s.better} is better)`;
    const lim = limit ? `${label(limit)}: ${shown(limit, s.unit)}` : '';
    for (const [i, p] of (peers.length ? peers : [undefined]).entries()) {
      lines.push(`| ${i === 0 ? what : '〃'} | ${i === 0 ? shown(ours, s.unit) : '〃'} | ${p ? label(p) : ''} | ${shown(p, s.unit)} | ${ratio(ours, p)} | ${i === 0 ? lim : '〃'} | ${i === 0 ? ratio(ours, limit) : '〃'} |`);
    }
  }
  const benches = [...new Set(data.results.filter((r) => r.side).map((r) => r.bench))];
  const runs = benches.map((b) => {
    const sec = data.sections?.[b];
    if (!sec) return `\`${b}\``;
    return `\`${b}\` ${sec.date.slice(0, 16).replace('T', ' ')} UTC${sec.quick ? ', quick mode (GENIX_BENCH_QUICK=1)' : ''}, load average ${sec.loadavg.join(' / ')}${sec.note ? `: ${cell(sec.note)}` : ''}`;
  });
  const failed = Object.entries(data.sections ?? {}).filter(([, s]) => s.error).map(([b, s]) => `- section \`${b}\` failed: ${cell(s.error!.slice(0, 400))}`);
  const m = data.machine ?? {};
  return `${lines.join('\n')}\n\nEach figure is the median of alternating runs (min–max in brackets), every leg in its own process, the limit first. `
    + `Machine: ${m.cpus ?? '?'} × ${cell(String(m.model ?? '?'))}, Node.js ${m.node ?? '?'}. Runs: ${runs.join('; ')}.\n${failed.length ? `\n${failed.join('\n')}\n` : ''}`;
}

/** The installed footprint (bench/footprint.bench.ts), for the install section. */
export function footprintTable(data: ResultsFile): string {
  const rows = data.results.filter((r) => r.bench === 'footprint') as Array<ResultsFile['results'][number] & { target?: string; ok?: boolean }>;
  if (rows.length === 0) return '_No footprint in bench/results.json yet: run `npm run bench -- footprint`._\n';
  const lines = ['| clean install of the tarball | footprint (`du`) | goal | | what npm installed |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${cell(r.name.replace(/^installed footprint: /, ''))} | ${fmt(r.value)} ${cell(r.unit)} | ${cell(r.target ?? '')} | ${r.ok === undefined ? '' : r.ok ? 'met' : '**missed**'} | ${cell(r.compare ?? '')} |`);
  }
  const sec = data.sections?.footprint;
  return `${lines.join('\n')}\n${sec ? `\n(\`npm run bench -- footprint\`, ${sec.date.slice(0, 10)}; bench/results.json)\n` : ''}`;
}

/** Every other figure of results.json, one line each, by section. */
export function figuresTable(data: ResultsFile): string {
  const rows = data.results.filter((r) => !r.side && !r.score && r.bench !== 'footprint');
  if (rows.length === 0) return '_No figures in bench/results.json yet: run `npm run bench`._\n';
  const lines = ['| section | benchmark | measured | target | | compared with (same run) |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows as Array<ResultsFile['results'][number] & { target?: string; ok?: boolean }>) {
    lines.push(`| ${r.bench} | ${cell(r.name)} | ${fmt(r.value)} ${cell(r.unit)} | ${cell(r.target ?? '')} | ${r.ok === undefined ? '' : r.ok ? 'ok' : '**missed**'} | ${cell(r.compare ?? '')} |`);
  }
  const dates = Object.entries(data.sections ?? {}).filter(([b]) => rows.some((r) => r.bench === b)).map(([b, s]) => `\`${b}\` ${s.date.slice(0, 10)}${s.quick ? ' (quick)' : ''}`);
  return `${lines.join('\n')}\n${dates.length ? `\nSection runs: ${dates.join(', ')}; sections without a date are from the run of ${data.date.slice(0, 10)} or before.\n` : ''}`;
}

/** The anomaly evaluation table (formerly bench/anomaly-table.ts). */
export function anomalyTable(data: ResultsFile): string {
  const rows = data.results.filter((r) => r.bench === 'anomaly' && r.score);
  if (rows.length === 0) return '_No anomaly evaluation in bench/results.json yet: run `npm run bench -- anomaly`._\n';
  const d = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '–');
  const names: Record<string, string> = { dropout: 'dropout (stale)' };
  const head = ['detector', 'faults found', ...SIM_FAULT_KINDS.map((k) => names[k] ?? k), 'false alarm episodes', 'median delay, 1 s / 5 min sensors (readings)'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const s = r.score as Score;
    const esc = s.name.replace(/\|/g, '\\|');
    const name = s.name.startsWith('genix') ? `**${esc}**` : esc;
    lines.push(`| ${[name, `${s.found} / ${s.faults}`, ...SIM_FAULT_KINDS.map((k) => `${s.byKind[k].found} / ${s.byKind[k].faults}`), String(s.falseEpisodes),
      `${d(s.medianDelayFast)} / ${d(s.medianDelaySlow)}`].join(' | ')} |`);
  }
  const where = /; ([^;]*simulated days[^;]*)$/.exec(rows[0].compare ?? '');
  return `${lines.join('\n')}\n${where ? `\n(${where[1]}; bench/results.json)\n` : ''}`;
}

export const SECTIONS: Record<string, (d: ResultsFile) => string> = { footprint: footprintTable, peers: peersTable, figures: figuresTable, anomaly: anomalyTable };

const begin = (name: string) => `<!-- generated by npm run bench:readme from bench/results.json: ${name} -->`;
const end = (name: string) => `<!-- end of generated section: ${name} -->`;

/** README text with every generated section replaced by what results.json gives. */
export function render(readme: string, data: ResultsFile): string {
  let out = readme;
  for (const [name, gen] of Object.entries(SECTIONS)) {
    const a = out.indexOf(begin(name));
    const b = out.indexOf(end(name));
    if (a < 0 || b < a) throw new Error(`README.md has no "${begin(name)}" … "${end(name)}" markers`);
    out = `${out.slice(0, a + begin(name).length)}\n${gen(data)}${out.slice(b)}`;
  }
  return out;
}

export function repoFile(...p: string[]): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'bench', 'results.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return path.join(dir, ...p);
}

if (require.main === module) {
  const readmeFile = repoFile('README.md');
  const data = JSON.parse(fs.readFileSync(repoFile('bench', 'results.json'), 'utf8')) as ResultsFile;
  const readme = fs.readFileSync(readmeFile, 'utf8');
  const next = render(readme, data);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      process.stderr.write('README.md differs from bench/results.json: run npm run bench:readme\n');
      process.exit(1);
    }
  } else if (next !== readme) {
    fs.writeFileSync(readmeFile, next);
    process.stdout.write('README.md: generated sections rewritten from bench/results.json\n');
  } else process.stdout.write('README.md: generated sections already match bench/results.json\n');
}
