// Faults against the real plant server: server restart past the session timeout, a cut network,
// a silent network (watchdog), a server that reorders its namespaces (nsu=), and the demo's PLC
// path (history on) losing nothing across a 20 s cut.
import assert from 'assert';
import helper from 'node-red-node-test-helper';
import { startPlant, tempUserDir, fastTiming } from '../helpers/opcua';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { freePort } from '../helpers/net';
import { waitFor, sleep } from '../helpers/wait';
import { startPlantOpcuaServer, PlantOpcuaServer } from '../../scripts/plant/opcua-server';
import { demoOpcuaOptions } from '../../scripts/plant/plant';
import { buildDemoFlow } from '../../scripts/demo-flow';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');
const anomalyNode = require('../../dist/nodes/genix-anomaly.js');

interface Recorder { readings: any[]; statuses: string[] }

function record(): Recorder {
  const r: Recorder = { readings: [], statuses: [] };
  helper.getNode('out').on('input', (msg: any) => { r.readings.push(...(Array.isArray(msg.payload) ? msg.payload : [msg.payload])); });
  helper.getNode('p1').on('call:status', (c: any) => r.statuses.push(c.args[0].text));
  return r;
}

function flow(endpointUrl: string, items: object[], mode = 'subscribe') {
  return [
    { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', ...fastTiming },
    { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode, intervalMs: 100, output: 'batch', items, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
}

describe('genix-opcua under faults', function () {
  this.timeout(60000);
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
  });

  it('server stopped for longer than the session timeout, then restarted: bad readings once, truthful status, data resumes', async () => {
    const port = await freePort();
    plant = await startPlant({ port });
    await helper.load([endpointNode, pollerNode], flow(plant.endpointUrl, [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }, { nodeId: 'ns=2;i=1002', sensorId: 'P' }]));
    const r = record();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > 4, 'good readings before the outage');
    const statusesBefore = r.statuses.length;
    await plant.stop();
    const stoppedAt = Date.now();
    await waitFor(() => r.readings.filter((x) => x.quality === 'bad').length >= 2, 'one bad reading per item', 10000);
    const bad = r.readings.filter((x) => x.quality === 'bad');
    assert.deepStrictEqual(bad.map((x) => x.sensorId).sort(), ['P', 'T']);
    assert.ok(bad.every((x) => x.statusCode === 'BadNoCommunication'));
    await waitFor(() => r.statuses.some((s) => s === 'genix-opcua-poller.status.reconnecting'), 'reconnecting status');
    // stay down past the session timeout, so the old session is gone when the server returns
    await waitFor(() => Date.now() - stoppedAt > fastTiming.sessionTimeoutMs + 500, 'outage longer than the session timeout', 10000, 100);
    assert.strictEqual(r.readings.filter((x) => x.quality === 'bad').length, 2, 'bad readings are sent once per outage, not per retry');
    assert.ok(!r.statuses.slice(statusesBefore).some((s) => /status\.connected/.test(s)), 'status never claims connected while the server is down');
    const goodBefore = r.readings.filter((x) => x.quality === 'good').length;
    plant = await startPlant({ port });
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > goodBefore + 4, 'data resumes after restart', 20000);
    await waitFor(() => /status\.connected/.test(r.statuses[r.statuses.length - 1]), 'connected status after restart');
    await waitFor(() => plant!.sessionCount() === 1, 'one session on the restarted server');
  });

  it('network cut through a TCP proxy: bad readings, reconnecting, then recovery when the cable is back', async () => {
    plant = await startPlant();
    proxy = await startTcpProxy(plant.port);
    const url = plant.endpointUrl.replace(`:${plant.port}/`, `:${proxy.port}/`);
    await helper.load([endpointNode, pollerNode], flow(url, [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], 'poll'));
    const r = record();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > 3, 'good readings through the proxy');
    proxy.cut();
    await waitFor(() => r.readings.some((x) => x.quality === 'bad' && x.statusCode === 'BadNoCommunication'), 'bad reading on the cut');
    await waitFor(() => r.statuses.some((s) => s === 'genix-opcua-poller.status.reconnecting'), 'reconnecting status');
    const goodBefore = r.readings.filter((x) => x.quality === 'good').length;
    proxy.restore();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > goodBefore + 3, 'data resumes after restore', 20000);
    await waitFor(() => /status\.connected/.test(r.statuses[r.statuses.length - 1]), 'connected again');
    // the session lives on, or a new one replaced it and the old one timed out
    await waitFor(() => plant!.sessionCount() === 1, `one session after the cut (server holds ${plant!.sessionCount()})`, 10000);
  });

  it('a silent network (packets swallowed) trips the watchdog: stale, then recovery', async () => {
    plant = await startPlant();
    proxy = await startTcpProxy(plant.port);
    const url = plant.endpointUrl.replace(`:${plant.port}/`, `:${proxy.port}/`);
    await helper.load([endpointNode, pollerNode], flow(url, [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }]));
    const r = record();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > 3, 'good readings');
    proxy.cut({ blackhole: true });
    await waitFor(() => r.statuses.some((s) => s === 'genix-opcua-poller.status.stale' || s === 'genix-opcua-poller.status.reconnecting'), 'stale or reconnecting status', 15000);
    await waitFor(() => r.readings.some((x) => x.quality === 'bad'), 'bad reading after silence', 15000);
    const goodBefore = r.readings.filter((x) => x.quality === 'good').length;
    proxy.restore();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > goodBefore + 3, 'data resumes', 20000);
  });

  it('nsu= items follow their namespace when the restarted server reorders namespaces', async () => {
    const port = await freePort();
    plant = await startPlant({ port });
    await helper.load([endpointNode, pollerNode], flow(plant.endpointUrl, [{ nodeId: 'nsu=urn:genix:plant;i=1001', sensorId: 'T' }]));
    const r = record();
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length > 2, 'readings before reorder');
    await plant.stop();
    plant = await startPlant({ port, namespacesBefore: ['urn:genix:decoy'] });
    assert.strictEqual(plant.plantNamespaceIndex, 3);
    const n = r.readings.length;
    await waitFor(() => r.readings.slice(n).filter((x) => x.quality === 'good').length > 3, 'readings after reorder', 20000);
    // the decoy at ns=2;i=1001 holds -1; the plant temperature is around 60
    assert.ok(r.readings.slice(n).filter((x) => x.quality === 'good').every((x) => x.value > 0), 'values come from the plant namespace, not the decoy');
  });

  it('the demo\'s PLC path (history on, poller → anomaly as deployed): a 20 s link cut leaves zero readings missing against the server\'s history; its alarms clear on live data, not on history', async function () {
    this.timeout(120000);
    const lines = 2;
    plant = await startPlantOpcuaServer(demoOpcuaOptions(await freePort(), lines, 100));
    proxy = await startTcpProxy(plant.port);
    const url = plant.endpointUrl.replace(`:${plant.port}/`, `:${proxy.port}/`);
    // the demo's own endpoint, poller and detector nodes; only the endpoint's timing is shortened (runtime of the test)
    const demo = buildDemoFlow({
      types: new Set(['genix-opcua-endpoint', 'genix-opcua-poller', 'genix-anomaly']), sensorBrokerUrl: 'mqtt://127.0.0.1:1', cloudBrokerUrl: 'mqtt://127.0.0.1:1',
      opcuaEndpointUrl: url, lines, rateMs: 100, dashboard: false,
    }) as any[];
    // layout (tab, x, y) dropped: the test helper starts no positioned node outside a tab
    const pick = (id: string) => { const n = demo.find((x) => x.id === id); assert.ok(n, `${id} in the demo flow`); const { z: _z, x: _x, y: _y, ...props } = n; return props; };
    const poller = pick('demo-opcua-poller');
    const items: Array<{ nodeId: string; sensorId: string }> = poller.items;
    await helper.load([endpointNode, pollerNode, anomalyNode], [
      { ...pick('demo-opcua-endpoint'), ...fastTiming },
      { ...poller, wires: [['demo-anomaly']] },
      { ...pick('demo-anomaly'), wires: [['out'], ['alarms']] },
      { id: 'out', type: 'helper' },
      { id: 'alarms', type: 'helper' },
    ]);
    const readings: any[] = [];
    const alarms: any[] = [];
    helper.getNode('out').on('input', (msg: any) => { readings.push(...(Array.isArray(msg.payload) ? msg.payload : [msg.payload])); });
    helper.getNode('alarms').on('input', (msg: any) => alarms.push(msg.payload));
    const good = (id: string) => readings.filter((x) => x.sensorId === id && x.quality === 'good');
    await waitFor(() => items.every((it) => good(it.sensorId).length >= 1), 'live values of every PLC tag', 30000);
    proxy.cut();
    const cutAt = Date.now();
    await waitFor(() => items.every((it) => readings.some((x) => x.sensorId === it.sensorId && x.statusCode === 'BadNoCommunication')), 'the cut is seen as a bad reading per tag', 10000);
    await sleep(20000 - (Date.now() - cutAt));
    proxy.restore();

    // Per tag: the hole between its last live value before the cut and its first live value after it,
    // and what the server's own historian recorded inside it. Missing = recorded but never sent.
    const missingOf = async () => {
      let expected = 0;
      let minHoleMs = Infinity;
      const missing: string[] = [];
      for (const it of items) {
        const live = good(it.sensorId).filter((x) => !x.backfill);
        const before = live.filter((x) => x.ts < cutAt);
        const after = live.filter((x) => x.ts > cutAt);
        if (!before.length || !after.length) return { expected, minHoleMs, missing: [`${it.sensorId}: no live value after the cut yet`] };
        const from = Math.max(...before.map((x) => x.ts));
        const to = Math.min(...after.map((x) => x.ts));
        minHoleMs = Math.min(minHoleMs, to - from);
        const recorded = await plant!.recorded(it.nodeId, from + 1, to - 1);
        expected += recorded.length;
        const sent = new Set(good(it.sensorId).map((x) => x.ts));
        const lost = recorded.filter((v) => !sent.has(v.ts)).length;
        if (lost) missing.push(`${it.sensorId}: ${lost} of ${recorded.length}`);
      }
      return { expected, minHoleMs, missing };
    };
    let res = await missingOf();
    const deadline = Date.now() + 60000;
    while (res.missing.length && Date.now() < deadline) {
      await sleep(500);
      res = await missingOf();
    }
    assert.deepStrictEqual(res.missing, [], 'zero readings missing from the OPC-UA source');
    assert.ok(res.minHoleMs >= 20000, `every tag's hole spans the cut (shortest ${res.minHoleMs} ms)`);
    // the 8 analog tags change every 100 ms; the run signals only at line stops
    assert.ok(res.expected >= 8 * 190, `the server recorded the cut (${res.expected} values)`);
    for (const it of items) {
      const ts = good(it.sensorId).map((x) => x.ts);
      assert.strictEqual(new Set(ts).size, ts.length, `${it.sensorId}: no value sent twice`);
    }
    const backfilled = readings.filter((x) => x.backfill);
    assert.ok(backfilled.length >= 8 * 150, `the hole was filled from history (${backfilled.length} backfilled readings)`);
    assert.ok(backfilled.every((x) => !('alarms' in x)), 'backfilled readings leave the detector unannotated');
    // alarms: raised by the live cut (bad reading, then stale), cleared by the first live value after it
    await waitFor(() => items.every((it) => { const a = alarms.filter((e) => e.sensorId === it.sensorId); return a.length > 0 && a[a.length - 1].state === 'cleared'; }), 'every tag\'s outage alarm cleared', 10000);
    assert.ok(alarms.every((e) => e.historical === undefined), 'the demo passes history on without alarms');
    for (const it of items) {
      const firstLiveAfter = Math.min(...good(it.sensorId).filter((x) => !x.backfill && x.ts > cutAt).map((x) => x.ts));
      const mine = alarms.filter((e) => e.sensorId === it.sensorId);
      assert.strictEqual(mine.filter((e) => e.state === 'active').length, 1, `${it.sensorId}: one outage episode (${mine.map((e) => `${e.kind} ${e.state}`).join(', ')})`);
      const cleared = mine.filter((e) => e.state === 'cleared');
      assert.ok(cleared.every((e) => e.ts >= firstLiveAfter), `${it.sensorId}: cleared by live data at ${firstLiveAfter}, not by history (${cleared.map((e) => e.ts).join(', ')})`);
    }
    process.stdout.write(`      (${res.expected} values recorded in the holes of ${items.length} tags, 0 missing; ${backfilled.length} backfilled)\n`);
  });
});
