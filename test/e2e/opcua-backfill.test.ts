// History backfill against the real plant server with historizing tags: a 20 s link cut through a
// TCP proxy leaves no hole, a backfill larger than one HistoryRead answer follows continuation
// points, and a server without history is said once while live data goes on. What must arrive is
// read from the server's own historian, never computed by the code under test.
import assert from 'assert';
import fs from 'fs';
import path from 'path';
import helper from 'node-red-node-test-helper';
import { startPlant, tempUserDir, fastTiming } from '../helpers/opcua';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { waitFor, sleep } from '../helpers/wait';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');

interface Recorder { readings: any[]; warnings: string[]; errors: string[]; backfillBatches: Array<{ at: number; n: number }> }

function record(): Recorder {
  const r: Recorder = { readings: [], warnings: [], errors: [], backfillBatches: [] };
  helper.getNode('out').on('input', (msg: any) => {
    const batch = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
    r.readings.push(...batch);
    const n = batch.filter((x: any) => x.backfill).length;
    if (n) r.backfillBatches.push({ at: Date.now(), n });
  });
  const p = helper.getNode('p1');
  p.on('call:warn', (c: any) => r.warnings.push(String(c.args[0])));
  p.on('call:error', (c: any) => r.errors.push(String(c.args[0])));
  return r;
}

function benchItems(n: number) {
  return Array.from({ length: n }, (_, k) => ({ nodeId: `ns=2;i=${100000 + k}`, sensorId: `B${k}` }));
}

function flow(endpointUrl: string, items: object[], poller: object = {}) {
  return [
    { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', ...fastTiming },
    { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'batch', items, backfill: 'auto', ...poller, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
}

/**
 * Per item: the hole is (last live value before `splitAt`, first live value after it); the server's
 * historian says what it holds inside; the output must carry exactly that, flagged, in order, once.
 */
async function checkNoHole(plant: PlantOpcuaServer, readings: any[], items: Array<{ nodeId: string; sensorId: string }>, splitAt: number, mode = 'subscribe'): Promise<{ expected: number; minHoleMs: number }> {
  let expectedTotal = 0;
  let minHoleMs = Infinity;
  for (const it of items) {
    const mine = readings.filter((r) => r.sensorId === it.sensorId);
    const live = mine.filter((r) => !r.backfill && r.quality === 'good');
    const before = live.filter((r) => r.ts < splitAt);
    const after = live.filter((r) => r.ts > splitAt);
    assert.ok(before.length && after.length, `${it.sensorId}: live values before and after the outage`);
    const from = Math.max(...before.map((r) => r.ts));
    const to = Math.min(...after.map((r) => r.ts));
    minHoleMs = Math.min(minHoleMs, to - from);
    const expected = (await plant.recorded(it.nodeId, from + 1, to - 1)).map((v) => v.ts);
    expectedTotal += expected.length;
    const got = mine.filter((r) => r.backfill).map((r) => r.ts);
    assert.deepStrictEqual(got, expected, `${it.sensorId}: backfilled timestamps equal the server's history in (${from}, ${to}), in order, once`);
    assert.ok(mine.filter((r) => r.backfill).every((r) => r.quality === 'good' && r.statusCode === 'Good' && typeof r.value === 'number'), `${it.sensorId}: original quality and values`);
    // a cyclic Read sends an unchanged value again each cycle; a subscription sends each value once
    const goodTs = mine.filter((r) => r.quality === 'good' && (mode === 'subscribe' || r.backfill)).map((r) => r.ts);
    const liveTs = new Set(live.map((r) => r.ts));
    assert.strictEqual(new Set(goodTs).size, goodTs.length, `${it.sensorId}: no value sent twice`);
    assert.ok(!got.some((ts) => liveTs.has(ts)), `${it.sensorId}: no backfilled value was also sent live`);
  }
  return { expected: expectedTotal, minHoleMs };
}

/** Retries checkNoHole until it holds (the backfill runs beside live data), or fails with its last complaint. */
async function waitNoHole(plant: PlantOpcuaServer, r: Recorder, items: Array<{ nodeId: string; sensorId: string }>, splitAt: number, timeoutMs: number, mode = 'subscribe'): Promise<{ expected: number; minHoleMs: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await checkNoHole(plant, r.readings, items, splitAt, mode);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

describe('genix-opcua-poller history backfill', function () {
  this.timeout(120000);
  const userDir = tempUserDir();
  let plant: PlantOpcuaServer | undefined;
  let proxy: TcpProxy | undefined;

  before(() => { helper.settings({ userDir }); });
  afterEach(async () => {
    await helper.unload();
    await proxy?.close();
    proxy = undefined;
    await plant?.stop();
    plant = undefined;
    // each test starts without remembered timestamps (the restart test covers them)
    fs.rmSync(path.join(userDir, 'genix-opcua'), { recursive: true, force: true });
  });

  async function throughProxy(p: PlantOpcuaServer): Promise<string> {
    proxy = await startTcpProxy(p.port);
    return p.endpointUrl.replace(`:${p.port}/`, `:${proxy.port}/`);
  }

  it('20 s link cut, 100 items at 10 values/s: afterwards the output holds every value the server recorded, once, in order, flagged', async () => {
    plant = await startPlant({ extraItems: 100, rateMs: 100, history: { maxOnlineValues: 1000 } });
    const url = await throughProxy(plant);
    const items = benchItems(100);
    await helper.load([endpointNode, pollerNode], flow(url, items));
    const r = record();
    await waitFor(() => items.every((it) => r.readings.filter((x) => x.sensorId === it.sensorId && x.quality === 'good').length >= 3), 'live values of every item', 20000);
    proxy!.cut();
    const cutAt = Date.now();
    await waitFor(() => r.readings.some((x) => x.quality === 'bad'), 'the poller notices the cut', 10000);
    await sleep(20000 - (Date.now() - cutAt));
    proxy!.restore();
    const restoredAt = Date.now();
    const res = await waitNoHole(plant, r, items, cutAt, 60000);
    await sleep(1000);
    await checkNoHole(plant, r.readings, items, cutAt);
    assert.ok(res.minHoleMs >= 20000, `every item's hole spans the cut (shortest ${res.minHoleMs} ms)`);
    assert.ok(res.expected >= 100 * 190, `the server recorded the cut (${res.expected} values)`);
    assert.strictEqual(r.errors.length, 0, `no node errors: ${r.errors.join(' | ')}`);
    const b = r.backfillBatches;
    process.stdout.write(`      (${res.expected} values backfilled for 100 items, holes of at least ${res.minHoleMs} ms; first backfilled reading ${b[0].at - restoredAt} ms after the restore, last ${b[b.length - 1].at - restoredAt} ms, in ${b.length} messages)\n`);
  });

  // 1.5 s: node-opcua repairs the channel and keeps the session and subscription (restore path);
  // 4 s: longer than the 3 s session timeout, so the session and subscription are rebuilt
  for (const cutMs of [1500, 4000]) {
    it(`continuation points after a ${cutMs} ms cut: a backfill larger than one HistoryRead answer arrives whole (7 values per node per read, 2 nodes per HistoryRead), no faster than the rate bound`, async () => {
      plant = await startPlant({ extraItems: 5, rateMs: 100, history: { maxOnlineValues: 1000 }, maxNodesPerHistoryReadData: 2 });
      const url = await throughProxy(plant);
      const items = benchItems(5);
      // queue size 1: a repaired subscription brings back only the newest sample, the rest of the cut comes from history
      await helper.load([endpointNode, pollerNode], flow(url, items, { backfillValuesPerRead: 7, backfillRate: 100, queueSize: 1 }));
      const r = record();
      await waitFor(() => items.every((it) => r.readings.some((x) => x.sensorId === it.sensorId && x.quality === 'good')), 'live values of every item', 20000);
      proxy!.cut();
      const cutAt = Date.now();
      await waitFor(() => r.readings.some((x) => x.quality === 'bad'), 'the poller notices the cut', 10000);
      await sleep(cutMs - (Date.now() - cutAt));
      proxy!.restore();
      const res = await waitNoHole(plant, r, items, cutAt, 30000);
      await sleep(1000);
      await checkNoHole(plant, r.readings, items, cutAt);
      const fewest = Math.min(...items.map((it) => r.readings.filter((x) => x.sensorId === it.sensorId && x.backfill).length));
      assert.ok(fewest > 2 * 7, `every item needed more than two answers (fewest values: ${fewest})`);
      // 100 values/s: after each answer the next waits n/100 s, so the spread is at least (all − last answer)/100 s
      const b = r.backfillBatches;
      const spreadMs = b[b.length - 1].at - b[0].at;
      const floorMs = ((res.expected - Math.max(...b.map((x) => x.n))) / 100) * 1000;
      assert.ok(b.length > 1 && spreadMs >= floorMs * 0.9, `rate bound kept: ${res.expected} values over ${spreadMs} ms (at least ${floorMs} ms at 100 values/s)`);
    });
  }

  it('poll mode: after a 3 s cut the cyclic reads resume and the hole between two reads is filled from history', async () => {
    plant = await startPlant({ extraItems: 5, rateMs: 100, history: { maxOnlineValues: 1000 } });
    const url = await throughProxy(plant);
    const items = benchItems(5);
    await helper.load([endpointNode, pollerNode], flow(url, items, { mode: 'poll' }));
    const r = record();
    await waitFor(() => items.every((it) => r.readings.some((x) => x.sensorId === it.sensorId && x.quality === 'good')), 'live values of every item', 20000);
    proxy!.cut();
    const cutAt = Date.now();
    await sleep(3000);
    proxy!.restore();
    const res = await waitNoHole(plant, r, items, cutAt, 30000, 'poll');
    assert.ok(res.minHoleMs >= 3000 && res.expected >= 5 * 25, `holes span the cut (${res.minHoleMs} ms, ${res.expected} values)`);
  });

  it('an outage longer than the window: only its last part is backfilled, and that is said', async () => {
    plant = await startPlant({ extraItems: 3, rateMs: 100, history: { maxOnlineValues: 1000 } });
    const url = await throughProxy(plant);
    const items = benchItems(3);
    // 0.04 min = 2.4 s
    await helper.load([endpointNode, pollerNode], flow(url, items, { backfillWindowMin: 0.04 }));
    const r = record();
    await waitFor(() => items.every((it) => r.readings.some((x) => x.sensorId === it.sensorId && x.quality === 'good')), 'live values of every item', 20000);
    proxy!.cut();
    const cutAt = Date.now();
    await sleep(6000);
    proxy!.restore();
    await waitFor(() => r.warnings.some((w) => w.includes('genix-opcua-poller.errors.backfillClipped')), 'the clipped notice', 20000);
    await sleep(500);
    for (const it of items) {
      const mine = r.readings.filter((x) => x.sensorId === it.sensorId && x.quality === 'good');
      const to = Math.min(...mine.filter((x) => !x.backfill && x.ts > cutAt).map((x) => x.ts));
      const expected: number[] = (await plant.recorded(it.nodeId, to - 2400 + 1, to - 1)).map((v) => v.ts);
      assert.deepStrictEqual(mine.filter((x) => x.backfill).map((x) => x.ts), expected, `${it.sensorId}: exactly the last 2.4 s before the first live value`);
      assert.ok(expected.length >= 20, `${it.sensorId}: the window holds values (${expected.length})`);
    }
  });

  for (const mode of ['auto', 'on'] as const) {
    it(`a server without history (backfill: ${mode}): live data resumes after each cut, one clear notice, no error`, async () => {
      plant = await startPlant({ extraItems: 3, rateMs: 100 });
      const url = await throughProxy(plant);
      const items = benchItems(3);
      await helper.load([endpointNode, pollerNode], flow(url, items, { backfill: mode }));
      const r = record();
      for (let round = 0; round < 2; round++) {
        await waitFor(() => items.every((it) => r.readings.some((x) => x.sensorId === it.sensorId && x.quality === 'good')), 'live values', 20000);
        const n = r.readings.length;
        proxy!.cut();
        await waitFor(() => r.readings.slice(n).some((x) => x.quality === 'bad'), 'the poller notices the cut', 10000);
        await sleep(1500);
        proxy!.restore();
        await waitFor(() => items.every((it) => r.readings.slice(n).filter((x) => x.sensorId === it.sensorId && x.quality === 'good').length >= 5), 'live data after the cut', 20000);
        await waitFor(() => r.warnings.some((w) => w.includes('genix-opcua-poller.errors.noHistory')), 'the no-history notice', 10000);
      }
      await sleep(1000);
      assert.strictEqual(r.warnings.filter((w) => w.includes('noHistory')).length, 1, `one notice over two cuts: ${r.warnings.join(' | ')}`);
      assert.ok(!r.warnings.some((w) => w.includes('backfillFailed')), `no backfill failure reported: ${r.warnings.join(' | ')}`);
      assert.strictEqual(r.errors.length, 0, `no node errors: ${r.errors.join(' | ')}`);
      assert.ok(!r.readings.some((x) => x.backfill), 'nothing is flagged as backfilled');
    });
  }
});
