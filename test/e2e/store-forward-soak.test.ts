// Soak: 500,000 readings buffered through a (shortened) cloud outage in a real Node-RED runtime whose heap is
// measured after full GCs with the backlog in that same process. The disk holds the backlog; memory holds a
// bounded window: heap growth between 50k and 500k buffered readings must stay under 15 MB, whether the cloud
// answers "not ok" or never answers. Then the cloud comes back and every reading is delivered.
import assert from 'assert';
import { fork, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { linkPackage } from '../helpers/red-process';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/wait';

const MB = 1048576;

// the generator: msg.payload = { from, count } → count readings, 1,000 per timer tick
const GEN = `
const { from, count } = msg.payload;
node.send([null, { ...msg, payload: 'ok' }]);
let i = from;
const end = from + count;
function chunk() {
  const stop = Math.min(end, i + 1000);
  for (; i < stop; i++) node.send([{ topic: 'S-' + (i % 50), payload: { sensorId: 'S-' + (i % 50), value: i % 1000, ts: Date.now(), quality: 'good', unit: 'degC', seq: i } }, null]);
  if (i < end) setTimeout(chunk, 4);
}
chunk();
return null;
`;

// the cloud: 'fail' answers not ok, 'silent' never answers, 'ok' acknowledges
const CLOUD = `
const mode = global.get('mode') || 'fail';
if (mode === 'silent') return null;
msg.delivery.ok = mode === 'ok';
if (!msg.delivery.ok) msg.delivery.error = 'cloud down';
return msg;
`;

function flows(): object[] {
  return [
    { id: 'tab', type: 'tab', label: 'soak' },
    { id: 'feed', z: 'tab', type: 'http in', url: '/feed', method: 'post', wires: [['gen']] },
    { id: 'gen', z: 'tab', type: 'function', func: GEN, outputs: 2, wires: [['sf'], ['res']] },
    { id: 'res', z: 'tab', type: 'http response', wires: [] },
    { id: 'modeIn', z: 'tab', type: 'http in', url: '/mode', method: 'post', wires: [['setMode']] },
    { id: 'setMode', z: 'tab', type: 'function', func: "global.set('mode', msg.payload.mode); msg.payload = 'ok'; return msg;", wires: [['res']] },
    { id: 'sf', z: 'tab', type: 'genix-store-forward', synchronous: 'NORMAL', maxMessages: 0, replayRate: 0, retryMinMs: 200, retryMaxMs: 1000, ackTimeoutMs: 500, metricsIntervalMs: 0, wires: [['cloud'], []] },
    { id: 'cloud', z: 'tab', type: 'function', func: CLOUD, wires: [['sf']] },
  ];
}

interface Child {
  proc: ChildProcess;
  url: string;
  heap(): Promise<number>;
}

async function startChild(userDir: string): Promise<Child> {
  linkPackage(userDir);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows()));
  const port = await freePort();
  const proc = fork(path.join(__dirname, 'store-forward-soak-child.ts'), [userDir, String(port)], {
    execArgv: ['--expose-gc', '-r', 'ts-node/register/transpile-only'],
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`Node-RED child exited (${code}) before it started`)));
  });
  const heap = () => new Promise<number>((resolve) => {
    proc.once('message', (m: any) => resolve(m.heap));
    proc.send({ cmd: 'heap' });
  });
  const url = `http://127.0.0.1:${port}`;
  // RED.start() resolves before the flows run: wait for the buffer node
  await waitFor(async () => (await fetch(`${url}/admin/genix/store-forward/sf/metrics`)).status === 200, 'the flows started', 30000, 100);
  return { proc, url, heap };
}

async function post(url: string, body: object): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.strictEqual(res.status, 200, `${url}: ${res.status}`);
}

async function metrics(c: Child): Promise<any> {
  return (await fetch(`${c.url}/admin/genix/store-forward/sf/metrics`)).json();
}

describe('genix-store-forward soak: memory during a cloud outage (real runtime, heap after GC)', function () {
  this.timeout(300000);
  let userDir: string;
  let child: Child | null = null;
  beforeEach(() => { userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-soak-')); });
  afterEach(async () => {
    if (child && child.proc.exitCode === null) {
      child.proc.kill('SIGKILL');
      await new Promise((r) => child!.proc.once('exit', r));
    }
    child = null;
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  for (const mode of ['fail', 'silent'] as const) {
    it(`500k readings while the cloud ${mode === 'fail' ? 'answers not ok' : 'never answers'}: heap flat, then all delivered`, async () => {
      child = await startChild(userDir);
      const c = child;
      await post(`${c.url}/mode`, { mode });
      const fill = async (from: number, count: number) => {
        await post(`${c.url}/feed`, { from, count });
        return waitFor(async () => { const m = await metrics(c); return m.accepted >= from + count ? m : null; }, `${from + count} accepted`, 120000, 200);
      };
      await fill(0, 50000);
      const at50k = await c.heap();
      const m = await fill(50000, 450000);
      const at500k = await c.heap();
      const growth = (at500k - at50k) / MB;
      console.log(`      heap after GC: ${(at50k / MB).toFixed(1)} MB at 50k buffered, ${(at500k / MB).toFixed(1)} MB at 500k (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB); failures ${m.failures}, timeouts ${m.timeouts}`);
      assert.ok(m.backlog >= 500000 - m.delivered, `backlog ${m.backlog}`);
      assert.strictEqual(m.delivered, 0, 'the cloud was down: nothing delivered');
      assert.ok(m.failures + m.timeouts > 0, 'the outage was met');
      assert.ok(growth < 15, `heap grew ${growth.toFixed(1)} MB between 50k and 500k buffered readings`);
      await post(`${c.url}/mode`, { mode: 'ok' });
      const end = await waitFor(async () => { const x = await metrics(c); return x.backlog === 0 ? x : null; }, 'the backlog delivered', 120000, 250);
      assert.strictEqual(end.delivered, 500000);
      assert.strictEqual(end.dropped, 0);
    });
  }
});
