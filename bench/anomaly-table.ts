// Prints the README's anomaly evaluation table from bench/results.json (written by `npm run bench anomaly`):
//   node scripts/build.js && node dist/bench/run.js anomaly && node dist/bench/anomaly-table.js
import fs from 'fs';
import path from 'path';
import type { Score } from './anomaly-eval';
import { SIM_FAULT_KINDS } from '../scripts/plant/anomaly-sim';

const file = path.resolve(__dirname, '..', '..', 'bench', 'results.json');
const data = JSON.parse(fs.readFileSync(file, 'utf8'));
const rows = (data.results as Array<{ bench: string; name: string; compare?: string; score?: Score }>).filter((r) => r.bench === 'anomaly' && r.score);
if (rows.length === 0) throw new Error(`no anomaly evaluation in ${file}: run npm run bench anomaly`);
const d = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '–');
const label: Record<string, string> = { dropout: 'dropout (stale)' };
const head = ['detector', 'faults found', ...SIM_FAULT_KINDS.map((k) => label[k] ?? k), 'false alarm episodes', 'median delay, 1 s / 5 min sensors (readings)'];
const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
for (const r of rows) {
  const s = r.score as Score;
  const esc = s.name.replace(/\|/g, '\\|');
  const name = s.name.startsWith('genix') ? `**${esc}**` : esc;
  lines.push(`| ${[name, `${s.found} / ${s.faults}`, ...SIM_FAULT_KINDS.map((k) => `${s.byKind[k].found} / ${s.byKind[k].faults}`), String(s.falseEpisodes),
    `${d(s.medianDelayFast)} / ${d(s.medianDelaySlow)}`].join(' | ')} |`);
}
const where = /; ([^;]*simulated days[^;]*)$/.exec(rows[0].compare ?? '');
process.stdout.write(`${lines.join('\n')}\n\n${where ? `(${where[1]}; bench/results.json of ${data.date})\n` : ''}`);
