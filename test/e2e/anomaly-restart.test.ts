import assert from 'assert';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { requirePrereq } from '../helpers/prereq';

// A real Node-RED restart: two processes on the same user directory with a persistent
// (localfilesystem) context store. The alarm raised before the restart is still active after it.
const runtimeJs = path.resolve(__dirname, '..', '..', 'dist', 'bench', 'runtime.js');

const CHILD = `
const { startRuntime } = require(${JSON.stringify(runtimeJs)});
const [userDir, phase] = process.argv.slice(1);
const flows = [
  { id: 'tab', type: 'tab', label: 'restart' },
  { id: 'an', z: 'tab', type: 'genix-anomaly', rules: [{ match: '*', hi: 5 }], liveClock: false, saveEveryMs: 600000, wires: [['jr'], ['ja']] },
  { id: 'jr', z: 'tab', type: 'junction', wires: [[]] },
  { id: 'ja', z: 'tab', type: 'junction', wires: [[]] },
];
(async () => {
  const rt = await startRuntime(flows, { userDir, settings: { contextStorage: { default: { module: 'localfilesystem' } } } });
  const events = [];
  const readings = [];
  rt.node('ja').on('input', (m) => events.push(m.payload));
  rt.node('jr').on('input', (m) => readings.push(m.payload));
  const value = phase === 'before' ? 9 : 1;
  rt.node('an').receive({ payload: { sensorId: 'PRES-01', value, ts: phase === 'before' ? 1000 : 2000, quality: 'good' } });
  const deadline = Date.now() + 10000;
  while ((events.length < 1 || readings.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await rt.RED.stop();
  process.stdout.write(JSON.stringify({ events, readings }));
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

function runPhase(userDir: string, phase: string): Promise<{ events: any[]; readings: any[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, userDir, phase], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`phase ${phase} exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.slice(out.indexOf('{"events"'))));
      } catch {
        reject(new Error(`phase ${phase}: bad output ${out} ${err}`));
      }
    });
  });
}

describe('genix-anomaly: state survives a Node-RED restart with a persistent context store', function () {
  this.timeout(60000);
  let userDir = '';
  before(function () {
    requirePrereq(this, fs.existsSync(runtimeJs), `${runtimeJs} is not built (run node scripts/build.js)`);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-anomaly-restart-'));
  });
  after(function () {
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('an alarm active before the restart clears after it, with its original activeSince', async function () {
    const before = await runPhase(userDir, 'before');
    assert.deepStrictEqual(before.events.map((e) => `${e.kind} ${e.state}`), ['hi active']);
    assert.deepStrictEqual(before.readings[0].alarms, ['hi']);
    assert.ok(fs.existsSync(path.join(userDir, 'context')), 'the context store wrote files');
    const after = await runPhase(userDir, 'after');
    assert.deepStrictEqual(after.events.map((e) => `${e.kind} ${e.state}`), ['hi cleared'], 'no second "active": the alarm was restored');
    assert.strictEqual(after.events[0].activeSince, 1000);
  });
});
