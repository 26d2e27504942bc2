// Faults against the real plant server: server restart past the session timeout, a cut network,
// a silent network (watchdog), and a server that reorders its namespaces (nsu=).
import assert from 'assert';
import helper from 'node-red-node-test-helper';
import { startPlant, tempUserDir, fastTiming } from '../helpers/opcua';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/wait';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');

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
});
