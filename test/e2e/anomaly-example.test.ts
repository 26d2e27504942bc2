import assert from 'assert';
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { PlantSignals } from '../../scripts/plant/signals';
import { EXPECTED } from '../../bench/evaluate';
import { requirePrereq } from '../helpers/prereq';

// Issue 14 "done when": the shipped example flow's rules (examples/03), in its genix-anomaly node as
// shipped, replayed at full speed through a real Node-RED runtime (own process): an hour of the demo
// plant without faults raises no alarm at all; an hour with injected faults catches every one of them.
const dist = path.resolve(__dirname, '..', '..', 'dist');
const START = Date.UTC(2026, 0, 1);
const SENSORS = 20;
const HOUR = 3600000;
const example = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'examples', '03 - Anomaly alarms.json'), 'utf8'));
const shipped = example.find((n: any) => n.type === 'genix-anomaly');

function child(faults: 'none' | 'default'): string {
  const node = { ...shipped, id: 'an', z: 'tab', wires: [['jr'], ['ja']] };
  return `
const { startRuntime } = require(${JSON.stringify(path.join(dist, 'bench', 'runtime.js'))});
const { PlantSignals } = require(${JSON.stringify(path.join(dist, 'scripts', 'plant', 'signals.js'))});
const flows = [
  { id: 'tab', type: 'tab', label: 'example 03' },
  ${JSON.stringify(node)},
  { id: 'jr', z: 'tab', type: 'junction', wires: [[]] },
  { id: 'ja', z: 'tab', type: 'junction', wires: [[]] },
];
(async () => {
  const rt = await startRuntime(flows);
  const events = [];
  const hits = [];
  let batches = 0;
  rt.node('ja').on('input', (m) => events.push(m.payload));
  rt.node('jr').on('input', (m) => { batches++; for (const r of m.payload) if (r.alarms) hits.push([r.sensorId, r.ts, r.alarms.join(',')]); });
  const plant = new PlantSignals({ sensors: ${SENSORS}, seed: 31, startTs: ${START}, faults: '${faults}' });
  const an = rt.node('an');
  let sent = 0;
  for (let ts = ${START}; ts < ${START + HOUR}; ts += 100) {
    const batch = [];
    for (let i = 0; i < plant.sensors.length; i++) {
      const v = plant.sample(i, ts);
      if (v !== undefined) batch.push({ sensorId: plant.sensors[i].sensorId, value: v, ts, quality: 'good', measurement: plant.sensors[i].measurement, unit: plant.sensors[i].unit });
    }
    an.receive({ payload: batch });
    sent++;
    if (sent % 200 === 0) while (batches < sent) await new Promise((r) => setImmediate(r));
  }
  while (batches < sent) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
  await rt.stop();
  // only the first reading of each run of annotated readings: enough to place detections in time
  const runs = [];
  const lastOf = {};
  for (const h of hits) { const k = h[0] + h[2]; if (lastOf[k] !== h[1] - 100) runs.push(h); lastOf[k] = h[1]; }
  process.stdout.write(JSON.stringify({ events, batches, runs }));
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;
}

function replay(faults: 'none' | 'default'): Promise<{ events: any[]; batches: number; runs: Array<[string, number, string]> }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', child(faults)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`replay exited ${code}: ${err}`));
      try { resolve(JSON.parse(out.slice(out.indexOf('{"events"')))); } catch { reject(new Error(`bad output: ${out.slice(0, 500)} ${err}`)); }
    });
  });
}

describe('examples/03: the shipped anomaly rules on an hour of the demo plant (real runtime, full speed)', function () {
  this.timeout(300000);
  before(function () {
    requirePrereq(this, fs.existsSync(path.join(dist, 'bench', 'runtime.js')), 'dist/bench/runtime.js is not built (run node scripts/build.js)');
  });

  it('the example node is the shipped one: live clock, grouping not switched off', function () {
    assert.ok(Array.isArray(shipped.rules) && shipped.rules.length > 0);
    assert.strictEqual(shipped.liveClock, true);
    assert.notStrictEqual(shipped.group, false);
  });

  it('no faults: zero alarm events in an hour (720,000 readings)', async function () {
    const res = await replay('none');
    assert.strictEqual(res.batches, 36000);
    assert.deepStrictEqual(res.events.map((e) => `${e.sensorId} ${e.kind} ${e.state} ${new Date(e.ts).toISOString()}`), []);
    assert.deepStrictEqual(res.runs, []);
  });

  it('injected faults: every spike, drift, stuck value and dropout of the hour is caught', async function () {
    const res = await replay('default');
    const plant = new PlantSignals({ sensors: SENSORS, seed: 31, startTs: START, faults: 'default' });
    const faults = plant.faultsUntil(START + HOUR).filter((f) => f.end + EXPECTED[f.kind].graceMs <= START + HOUR);
    assert.ok(faults.length >= 100, `${faults.length} faults`);
    const missed: string[] = [];
    for (const f of faults) {
      const exp = EXPECTED[f.kind];
      const within = (ts: number) => ts >= f.start && ts <= f.end + exp.graceMs;
      // an alarm event naming the kind (alone or in its episode), or readings annotated with it
      const byEvent = res.events.some((e) => e.sensorId === f.sensorId && within(e.ts) && (e.state === 'active' || e.state === 'escalated') &&
        (exp.kinds.includes(e.kind) || (e.episode && e.episode.kinds.some((k: string) => exp.kinds.includes(k)))));
      const byReading = res.runs.some(([id, ts, kinds]) => id === f.sensorId && within(ts) && kinds.split(',').some((k) => exp.kinds.includes(k)));
      if (!byEvent && !byReading) missed.push(`${f.seq} ${f.kind} ${f.sensorId}`);
    }
    assert.deepStrictEqual(missed, []);
  });
});
