// Redeploy during delivery in a real Node-RED child: answers the old buffer instance was waiting for arrive
// after a full deploy and after a node-only deploy (the publisher answering a PUBACK late). They must settle
// nothing: the new instance's sends carry its own token, and every reading is still delivered afterwards.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { waitFor } from '../helpers/wait';

// mode 'hold': keep msg.delivery (no answer); 'ok': acknowledge and record the readings
const CLOUD = `
const mode = global.get('mode') || 'hold';
if (mode === 'hold') {
  const held = global.get('held') || [];
  held.push({ delivery: RED.util.cloneMessage(msg.delivery), payload: msg.payload });
  global.set('held', held);
  return null;
}
const got = global.get('got') || [];
for (const r of [msg.payload].flat()) got.push(r.seq);
global.set('got', got);
msg.delivery.ok = true;
return msg;
`;

const GEN = `
for (let i = msg.payload.from; i < msg.payload.to; i++) node.send([{ topic: 'S', payload: { sensorId: 'S', value: i, ts: Date.now(), quality: 'good', seq: i } }, null]);
return [null, { ...msg, payload: 'ok' }];
`;

function flows(name: string): object[] {
  const http = (id: string, url: string, method: string, func: string) => [
    { id, z: 'tab', type: 'http in', url, method, wires: [[`${id}-f`]] },
    { id: `${id}-f`, z: 'tab', type: 'function', func, outputs: 2, wires: [['sf'], ['res']] },
  ];
  return [
    { id: 'tab', type: 'tab', label: 'redeploy' },
    ...http('feed', '/feed', 'post', GEN),
    ...http('mode', '/mode', 'post', "global.set('mode', msg.payload.mode); return [null, { ...msg, payload: 'ok' }];"),
    ...http('held', '/held', 'get', "return [null, { ...msg, payload: global.get('held') || [] }];"),
    ...http('got', '/got', 'get', "return [null, { ...msg, payload: global.get('got') || [] }];"),
    // a late answer: the old msg.delivery with ok set, sent back into the buffer as the publisher would
    ...http('late', '/late', 'post', 'const d = msg.payload; return [{ payload: d.payload, delivery: { ...d.delivery, ok: true } }, { ...msg, payload: \'ok\' }];'),
    { id: 'res', z: 'tab', type: 'http response', wires: [] },
    { id: 'sf', z: 'tab', type: 'genix-store-forward', name, replayRate: 0, replayBatchSize: 10, maxInFlight: 5, ackTimeoutMs: 1500, retryMinMs: 100, retryMaxMs: 300, metricsIntervalMs: 0, wires: [['cloud'], []] },
    { id: 'cloud', z: 'tab', type: 'function', func: CLOUD, wires: [['sf']] },
  ];
}

describe('genix-store-forward e2e: late answers after a redeploy', function () {
  this.timeout(90000);
  let userDir: string;
  let red: RedProcess | null = null;
  beforeEach(() => { userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-redeploy-')); });
  afterEach(async () => {
    if (red) await red.kill('SIGKILL');
    red = null;
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  const call = async (r: RedProcess, p: string, body?: object) => {
    const res = await fetch(`${r.url}${p}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
    assert.strictEqual(res.status, 200, `${p}: ${res.status}`);
    const text = await res.text();
    return text === 'ok' ? text : JSON.parse(text);
  };
  /** GET that answers null while the flows are being (re)started */
  const held = async (r: RedProcess): Promise<any[] | null> => {
    const res = await fetch(`${r.url}/held`);
    return res.status === 200 ? res.json() as Promise<any[]> : null;
  };
  const metrics = async (r: RedProcess) => (await fetch(`${r.url}/genix/store-forward/sf/metrics`)).json() as Promise<any>;

  for (const type of ['full', 'nodes'] as const) {
    it(`${type === 'full' ? 'full' : 'node-only'} deploy: the old instance's answers delete nothing; every reading is delivered`, async () => {
      red = await startRedProcess({ userDir, flows: flows('before') });
      const r = red;
      await call(r, '/feed', { from: 0, to: 300 });
      const old = (await waitFor(async () => { const h = await held(r); return h && h.length >= 5 ? h : null; }, 'sends held unanswered')) as any[];
      const deploy = await fetch(`${r.url}/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': type },
        body: JSON.stringify(flows('after')),
      });
      assert.strictEqual(deploy.status, 204, `deploy: ${deploy.status}`);
      // the new instance replays from the oldest row: its first sends carry the same seqs and ids as the old ones
      await waitFor(async () => ((await held(r)) ?? []).length >= old.length + 5, 'the new instance forwarding');
      const fresh = (await call(r, '/held')).slice(old.length);
      assert.ok(fresh.some((f: any) => old.some((o) => o.delivery.seq === f.delivery.seq)), 'the seqs collide, as before the fix');
      assert.notStrictEqual(fresh[0].delivery.token, old[0].delivery.token, 'a new instance has a new token');
      for (const o of old) await call(r, '/late', o);
      const m = await waitFor(async () => { const x = await metrics(r); return x.rejectedAnswers >= old.length ? x : null; }, 'late answers counted');
      assert.strictEqual(m.delivered, 0, 'a late answer deleted rows');
      assert.strictEqual(m.backlog, 300);
      await call(r, '/mode', { mode: 'ok' });
      await waitFor(async () => (await metrics(r)).backlog === 0, 'all delivered', 30000);
      const got: number[] = await call(r, '/got');
      assert.deepStrictEqual([...new Set(got)].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
    });
  }
});
