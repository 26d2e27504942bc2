// OPC-UA faults that leave the session alive: the server drops a subscription (deleted server-side
// under the live session, as after a restart that kept the session), and a cyclic Read that the
// server does not answer in time. Both must show as bad readings and recover, never go quiet.
import assert from 'assert';
import helper from 'node-red-node-test-helper';
import { DataType, DataValue, Variant, StatusCodes } from 'node-opcua-client';
import { usePlantAndRuntime, fastTiming } from '../helpers/opcua';
import { waitFor } from '../helpers/wait';
import { PLANT_NAMESPACE_URI } from '../../scripts/plant/opcua-server';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');

interface Recorder { readings: any[]; statuses: Array<{ fill: string; text: string }> }

function record(poller: string, out: string): Recorder {
  const r: Recorder = { readings: [], statuses: [] };
  helper.getNode(out).on('input', (msg: any) => { r.readings.push(...(Array.isArray(msg.payload) ? msg.payload : [msg.payload])); });
  helper.getNode(poller).on('call:status', (c: any) => r.statuses.push(c.args[0]));
  return r;
}

describe('genix-opcua faults under a live session', function () {
  this.timeout(60000);
  const fixture = usePlantAndRuntime();
  /** while set, the server holds back the value of ns=<plant>;s=Slow this many ms (Read with maxAge 0 waits for it) */
  let stallMs = 0;

  before(() => {
    const addressSpace = fixture.plant().server.engine.addressSpace!;
    const ns = addressSpace.getNamespace(PLANT_NAMESPACE_URI)!;
    ns.addVariable({
      organizedBy: addressSpace.rootFolder.objects,
      browseName: 'Slow',
      nodeId: 's=Slow',
      dataType: 'Double',
      minimumSamplingInterval: 0,
      value: {
        refreshFunc: (cb: (err: Error | null, dv?: DataValue) => void) => {
          const dv = new DataValue({ value: new Variant({ dataType: DataType.Double, value: 7 }), statusCode: StatusCodes.Good, sourceTimestamp: new Date() });
          if (stallMs > 0) setTimeout(() => cb(null, dv), stallMs);
          else cb(null, dv);
        },
      },
    } as any);
  });
  afterEach(() => { stallMs = 0; });

  /** Deletes every subscription the plant holds, server-side, under the sessions that own them. */
  function dropSubscriptionsOnServer(): number {
    let n = 0;
    for (const session of fixture.plant().server.engine.getSessions()) {
      for (const sub of [...session.publishEngine.subscriptions]) {
        assert.strictEqual(session.deleteSubscription(sub.id).name, 'Good');
        n++;
      }
    }
    return n;
  }

  it('a subscription the server drops under the live session is detected, reported bad and recreated', async () => {
    await helper.load([endpointNode, pollerNode], [
      fixture.endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each',
        items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }, { nodeId: 'ns=2;i=1002', sensorId: 'P' }], wires: [['out'], []] },
      { id: 'out', type: 'helper' },
    ]);
    const r = record('p1', 'out');
    await waitFor(() => r.readings.filter((x) => x.sensorId === 'T' && x.quality === 'good').length >= 3, 'good readings');
    const sessionsBefore = fixture.plant().server.engine.currentSessionCount;
    assert.strictEqual(dropSubscriptionsOnServer(), 1);
    const cut = r.readings.length;
    // without a watchdog per subscription the poller stays green and silent from here on
    const bad = await waitFor(() => {
      const b = r.readings.slice(cut).filter((x) => x.quality === 'bad');
      return b.length >= 2 ? b : null;
    }, 'bad readings for the dropped subscription', 20000) as any[];
    assert.deepStrictEqual(bad.map((x) => x.sensorId).sort(), ['P', 'T']);
    assert.ok(bad.every((x) => x.statusCode === 'BadSubscriptionIdInvalid'), `status codes ${bad.map((x) => x.statusCode)}`);
    assert.ok(r.statuses.some((s) => /notGood/.test(s.text) && s.fill === 'yellow'), 'the status shows the items not good');
    const afterBad = r.readings.length;
    await waitFor(() => r.readings.slice(afterBad).filter((x) => x.sensorId === 'T' && x.quality === 'good').length >= 3, 'good readings from the recreated subscription', 20000);
    await waitFor(() => r.statuses.length > 0 && r.statuses[r.statuses.length - 1].fill === 'green', 'green status again');
    // recreated on the same session: no reconnect happened
    assert.strictEqual(fixture.plant().server.engine.currentSessionCount, sessionsBefore);
    let subs = 0;
    for (const s of fixture.plant().server.engine.getSessions()) subs += s.publishEngine.subscriptions.length;
    assert.strictEqual(subs, 1, 'exactly one live subscription on the server');
  });

  it('a cyclic Read the server does not answer in time sends one bad reading per item it covered, then data resumes', async () => {
    const timeoutMs = fastTiming.requestTimeoutMs;
    await helper.load([endpointNode, pollerNode], [
      fixture.endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'poll', intervalMs: 200, output: 'batch',
        items: [{ nodeId: 'ns=2;s=Slow', sensorId: 'SLOW' }, { nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [['out'], []] },
      { id: 'out', type: 'helper' },
    ]);
    const r = record('p1', 'out');
    await waitFor(() => r.readings.filter((x) => x.quality === 'good').length >= 4, 'good readings');
    stallMs = timeoutMs * 2;
    const cut = r.readings.length;
    const bad = await waitFor(() => {
      const b = r.readings.slice(cut).filter((x) => x.quality === 'bad');
      return b.length >= 2 ? b : null;
    }, 'bad readings for the unanswered read', timeoutMs * 4) as any[];
    assert.deepStrictEqual(bad.map((x) => x.sensorId).sort(), ['SLOW', 'T']);
    assert.ok(bad.every((x) => x.statusCode === 'BadTimeout'), `status codes ${bad.map((x) => x.statusCode)}`);
    stallMs = 0;
    const afterBad = r.readings.length;
    await waitFor(() => r.readings.slice(afterBad).filter((x) => x.sensorId === 'SLOW' && x.quality === 'good').length >= 2, 'good readings after the stall', timeoutMs * 6);
  });
});
