// The delivery loop end to end in a real runtime: store-forward → cloud publisher → (feedback wire) → store-forward,
// with the broker stopped mid-stream and restarted.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
const helper = require('node-red-node-test-helper');
import { brokerKinds, startAedes } from '../helpers/brokers';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';
import { describeIf } from '../helpers/prereq';

const storeForwardNode = require('../../dist/nodes/genix-store-forward.js');
const endpointNode = require('../../dist/nodes/genix-cloud-endpoint.js');
const publisherNode = require('../../dist/nodes/genix-cloud-publisher.js');

const N = 600;

for (const bk of brokerKinds) {
  describeIf(bk.available, `${bk.kind} is not installed (apt-get install mosquitto; .ci/run installs it)`)(`delivery loop against ${bk.kind}`, function () {
    this.timeout(60000);
    afterEach(async function () { await helper.unload(); });

    it('broker stopped mid-stream: reports turn ok:false, rows stay; after restart every reading arrives in order and the buffer drains', async function () {
      const broker = await bk.start();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-loop-'));
      const values: number[] = [];
      // the subscriber reconnects faster than the publisher, so it is back before the replay starts
      const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 50 });
      sub.on('message', (_t, p) => {
        const v = JSON.parse(p.toString());
        for (const r of Array.isArray(v) ? v : [v]) values.push(r.value);
      });
      await sub.subscribeAsync('plants/#', { qos: 1 });
      try {
        await helper.load([storeForwardNode, endpointNode, publisherNode], [
          { id: 'sf', type: 'genix-store-forward', dbPath: path.join(dir, 'loop.db'), maxInFlight: 50, ackTimeoutMs: 5000, replayRate: 0, replayBatchSize: 50, retryMinMs: 100, retryMaxMs: 300, synchronous: 'NORMAL', wires: [['pub'], []] },
          { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url, reconnectMinMs: 600, reconnectMaxMs: 800, stateTopic: '' },
          { id: 'pub', type: 'genix-cloud-publisher', endpoint: 'ep', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 20, batchMaxBytes: 131072, wires: [['sf', 'watch']] },
          { id: 'watch', type: 'helper' },
        ]);
        const sf = helper.getNode('sf');
        const reports: any[] = [];
        helper.getNode('watch').on('input', (m: any) => reports.push(m.delivery));
        await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
        let stopped = false;
        for (let i = 0; i < N; i++) {
          sf.receive({ topic: 'TEMP-1', payload: { sensorId: 'TEMP-1', value: i, ts: 1686000000000 + i, quality: 'good', plantId: 'p1' } });
          if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
          if (i === N / 3) {
            // a broker that dies loses what it acknowledged but had not yet passed on to the subscriber (no
            // persistence), so let the subscriber catch up first: it is our witness of what the broker accepted
            await waitFor(() => { const have = new Set(values); return reports.filter((d) => d.ok).length > 0 && sf.buffer.backlog === 0 && have.size >= i; }, 'subscriber caught up', 10000);
            await broker.stop();
            stopped = true;
          }
          if (i === N / 3 + 20) {
            await waitFor(() => reports.some((d) => d.ok === false), 'ok:false reports after the stop', 5000);
            assert.ok(sf.buffer.backlog > 0, 'rows stay in the buffer');
          }
          if (stopped && i === (2 * N) / 3) {
            assert.ok(sf.buffer.backlog > 0);
            await broker.restart();
            stopped = false;
          }
        }
        await waitFor(() => sf.buffer.backlog === 0, 'buffer drained', 40000, 50);
        const missing = () => { const have = new Set(values); return Array.from({ length: N }, (_, i) => i).filter((i) => !have.has(i)); };
        await waitFor(() => missing().length === 0, `all ${N} readings at the subscriber`, 10000).catch((e) => {
          throw new Error(`${e.message}; missing ${missing().length}: ${missing().slice(0, 10).join(',')}…${missing().slice(-3).join(',')}`);
        });
        const firstSeen: number[] = [];
        const seen = new Set<number>();
        for (const v of values) if (!seen.has(v)) { seen.add(v); firstSeen.push(v); }
        assert.deepStrictEqual(firstSeen, Array.from({ length: N }, (_, i) => i), 'in order');
        assert.ok(reports.some((d) => d.ok === false) && reports.some((d) => d.ok === true));
        assert.ok(reports.every((d) => d.ok === true || (typeof d.error === 'string' && !d.permanent)));
      } finally {
        await helper.unload();
        await sub.endAsync(true);
        await broker.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('delivery loop with a half-open cloud connection', function () {
  this.timeout(60000);
  afterEach(async function () { await helper.unload(); });

  it('the publisher never answers (no PUBACK, no error): the ack timeout requeues; every reading arrives, duplicates bounded by the window', async () => {
    const broker = await startAedes();
    const proxy = await startTcpProxy(broker.port);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-halfopen-'));
    const values: number[] = [];
    const sub = await mqtt.connectAsync(broker.url);
    sub.on('message', (_t, p) => { for (const r of [JSON.parse(p.toString())].flat()) values.push(r.value); });
    await sub.subscribeAsync('plants/#', { qos: 1 });
    const N = 300;
    const window = 20;
    try {
      await helper.load([storeForwardNode, endpointNode, publisherNode], [
        { id: 'sf', type: 'genix-store-forward', dbPath: path.join(dir, 'h.db'), maxInFlight: window, ackTimeoutMs: 1000, replayRate: 0, replayBatchSize: 1, retryMinMs: 100, retryMaxMs: 300, synchronous: 'NORMAL', metricsIntervalMs: 0, wires: [['pub'], []] },
        { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: `mqtt://127.0.0.1:${proxy.port}`, keepalive: 1, reconnectMinMs: 200, reconnectMaxMs: 400, stateTopic: '' },
        { id: 'pub', type: 'genix-cloud-publisher', endpoint: 'ep', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 5, wires: [['sf']] },
      ]);
      const sf = helper.getNode('sf');
      await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
      for (let i = 0; i < N; i++) {
        sf.receive({ topic: 'TEMP-1', payload: { sensorId: 'TEMP-1', value: i, ts: 1686000000000 + i, quality: 'good', plantId: 'p1' } });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
        // half-open: the TCP connection stays up but nothing gets through either way
        if (i === 100) proxy.cut({ blackhole: true });
        if (i === 200) {
          await waitFor(() => sf.buffer.metrics().timeouts > 0, 'an ack timeout while nothing answers', 10000);
          proxy.restore();
        }
      }
      await waitFor(() => sf.buffer.backlog === 0, 'buffer drained', 40000, 50);
      const have = new Set(values);
      await waitFor(() => { values.forEach((v) => have.add(v)); return have.size === N; }, `all ${N} readings at the subscriber`, 10000);
      const m = sf.buffer.metrics();
      assert.ok(m.timeouts > 0, 'the ack timeout requeued');
      const dups = values.length - have.size;
      // at least once: only what was in flight when the line went silent can arrive twice
      assert.ok(dups <= window * 2, `${dups} duplicates for a window of ${window}`);
    } finally {
      await helper.unload();
      await sub.endAsync(true);
      await proxy.close();
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
