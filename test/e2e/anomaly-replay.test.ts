import assert from 'assert';
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { PlantSignals } from '../../scripts/plant/signals';
import { AnomalyDetector } from '../../nodes/lib/anomaly/detector';
import { PLANT_RULES } from '../../bench/evaluate';
import { requirePrereq } from '../helpers/prereq';

// The simulated plant replayed as fast as possible through a real Node-RED runtime (own process):
// the node raises exactly the alarms the core raises on the same data, and catches every fault.
const dist = path.resolve(__dirname, '..', '..', 'dist');
const START = Date.UTC(2026, 0, 1);
const SENSORS = 50;
const MINUTES = 6;
const plantOpts = { sensors: SENSORS, seed: 21, startTs: START, faults: 'default' as const, firstFaultMs: 10000, faultEveryMs: 21000 };

const CHILD = `
const { startRuntime } = require(${JSON.stringify(path.join(dist, 'bench', 'runtime.js'))});
const { PlantSignals } = require(${JSON.stringify(path.join(dist, 'scripts', 'plant', 'signals.js'))});
const rules = ${JSON.stringify(PLANT_RULES)};
const flows = [
  { id: 'tab', type: 'tab', label: 'replay' },
  { id: 'an', z: 'tab', type: 'genix-anomaly', rules, liveClock: false, wires: [['jr'], ['ja']] },
  { id: 'jr', z: 'tab', type: 'junction', wires: [[]] },
  { id: 'ja', z: 'tab', type: 'junction', wires: [[]] },
];
(async () => {
  const rt = await startRuntime(flows);
  const events = [];
  let batches = 0;
  let annotated = 0;
  rt.node('ja').on('input', (m) => events.push(m.payload));
  rt.node('jr').on('input', (m) => { batches++; for (const r of m.payload) if (r.alarms) annotated++; });
  const plant = new PlantSignals(${JSON.stringify(plantOpts)});
  const an = rt.node('an');
  let sent = 0;
  for (let ts = ${START}; ts < ${START + MINUTES * 60000}; ts += 100) {
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
  process.stdout.write(JSON.stringify({ events, batches, annotated }));
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

describe('genix-anomaly: plant replay through a real Node-RED runtime', function () {
  this.timeout(90000);
  before(function () {
    requirePrereq(this, fs.existsSync(path.join(dist, 'bench', 'runtime.js')), 'dist/bench/runtime.js is not built (run node scripts/build.js)');
  });

  it('raises the same alarms as the core and detects every injected fault', async function () {
    const res: { events: any[]; batches: number; annotated: number } = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => {
        if (code !== 0) return reject(new Error(`replay exited ${code}: ${err}`));
        try { resolve(JSON.parse(out.slice(out.indexOf('{"events"')))); } catch { reject(new Error(`bad output: ${out} ${err}`)); }
      });
    });
    assert.strictEqual(res.batches, MINUTES * 600);
    // The same data through the pure core.
    const plant = new PlantSignals(plantOpts);
    const det = new AnomalyDetector(PLANT_RULES, { group: true }); // the node groups alarms into episodes by default
    const expected: string[] = [];
    for (let ts = START; ts < START + MINUTES * 60000; ts += 100) {
      for (let i = 0; i < SENSORS; i++) {
        const v = plant.sample(i, ts);
        if (v !== undefined) det.process({ sensorId: plant.sensors[i].sensorId, value: v, ts, quality: 'good' });
      }
      for (const e of det.takeEvents()) expected.push(`${e.sensorId} ${e.kind} ${e.state} ${e.ts}`);
    }
    const got = res.events.map((e) => `${e.sensorId} ${e.kind} ${e.state} ${e.ts}`);
    assert.deepStrictEqual(got, expected);
    assert.ok(res.annotated > 0, 'readings during faults carry reading.alarms');
    const faults = plant.faultsUntil(START + MINUTES * 60000 - 20000);
    assert.ok(faults.length >= 12, `${faults.length} faults`);
    const want: Record<string, string[]> = { spike: ['deviation'], drift: ['deviation'], stuck: ['flatline'], dropout: ['stale'] };
    for (const f of faults) {
      const hit = res.events.find((e) => e.state === 'active' && e.sensorId === f.sensorId && want[f.kind].includes(e.kind) && e.ts >= f.start && e.ts <= f.end + 5000);
      assert.ok(hit, `fault ${f.seq} ${f.kind} on ${f.sensorId} not detected`);
    }
  });
});
