// Sparkplug B in: the normalizer behind a stock `mqtt in` (Buffer on spBv1.0/#), fed by a real edge node
// (our SparkplugSession) through a real broker: births, aliases, DATA before BIRTH, rebirth request wired to `mqtt out`.
import assert from 'assert';
import helper from 'node-red-node-test-helper';
import { startAedes } from '../helpers/brokers';
import { waitFor } from '../helpers/wait';
import { SparkplugSession } from '../../nodes/lib/sparkplug/session';
import { isSparkplug, SparkplugReader, sparkplugBytes } from '../../nodes/lib/normalizer/sparkplug';
import { encode } from '../../nodes/lib/sparkplug/codec';

const normalizerNode = require('../../dist/nodes/genix-normalizer.js');
const mqttNode = require('@node-red/nodes/core/network/10-mqtt.js');
const switchNode = require('@node-red/nodes/core/function/10-switch.js');

describe('genix-normalizer: Sparkplug B in', function () {
  this.timeout(30000);
  afterEach(async function () { await helper.unload(); });

  it('DATA before its BIRTH → invalid (no_birth) + NCMD rebirth that the edge node answers; then births and aliased data become readings', async function () {
    const broker = await startAedes();
    const edge = new SparkplugSession({ url: broker.url, clientId: 'edge-e1', group: 'g1', edgeNode: 'e1', reconnectMinMs: 100, reconnectMaxMs: 200 });
    const publish = (value: unknown, ts: number, quality: 'good' | 'bad' = 'good') => new Promise<void>((resolve, reject) => {
      edge.publish([{ device: 'press-1', metric: 'P-7', value: value as number, ts, quality }], false, (r) => (r.ok ? resolve() : reject(new Error(r.error))));
    });
    try {
      edge.start();
      await waitFor(() => edge.phase === 'online', 'edge node online');
      // the edge node is born before the normalizer listens: its DBIRTH (alias of P-7) is never seen
      await publish(1, Date.now());
      await helper.load([normalizerNode, mqttNode, switchNode], [
        { id: 'broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(broker.port), clientid: '', autoConnect: true, protocolVersion: '4', keepalive: '60', cleansession: true },
        { id: 'in', type: 'mqtt in', topic: 'spBv1.0/#', qos: '1', datatype: 'auto-detect', broker: 'broker', wires: [['n']] },
        { id: 'n', type: 'genix-normalizer', sparkplugRebirth: true, wires: [['ok'], ['bad', 'sw']] },
        { id: 'sw', type: 'switch', property: 'rebirth', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', outputs: 1, wires: [['out']] },
        { id: 'out', type: 'mqtt out', topic: '', qos: '1', retain: 'false', broker: 'broker', wires: [] },
        { id: 'ok', type: 'helper' },
        { id: 'bad', type: 'helper' },
      ]);
      const ok: any[] = [];
      const bad: any[] = [];
      helper.getNode('ok').on('input', (m: any) => ok.push(m));
      helper.getNode('bad').on('input', (m: any) => bad.push(m));
      const births = edge.births;
      let v = 2;
      await waitFor(async () => { if (bad.length === 0) await publish(v++, Date.now()); return bad.length > 0; }, 'DATA before BIRTH at the invalid output', 10000, 200);
      const orphan = bad.find((m) => m.error);
      assert.strictEqual(orphan.error.code, 'no_birth');
      assert.match(orphan.error.message, /DDATA on spBv1\.0\/g1\/DDATA\/e1\/press-1 before its DBIRTH/);
      const request = bad.find((m) => m.rebirth);
      assert.strictEqual(request.topic, 'spBv1.0/g1/NCMD/e1');
      // the request went out through mqtt out: the edge node published its births again
      await waitFor(() => edge.births > births, 'rebirth answered by the edge node');
      await waitFor(() => ok.some((m) => m.payload.sensorId === 'press-1/P-7'), 'a reading from the DBIRTH');
      assert.ok(!ok.some((m) => /bdSeq|Node Control/.test(m.payload.sensorId)), 'node bookkeeping metrics are not readings');
      const ts = Date.now() - 5000;
      await publish(42.5, ts, 'bad');
      await waitFor(() => ok.some((m) => m.payload.value === 42.5), 'the aliased DDATA as a reading');
      const r = ok.find((m) => m.payload.value === 42.5).payload;
      assert.deepStrictEqual([r.sensorId, r.ts, r.quality, r.tags.spGroup, r.tags.spEdgeNode, r.tags.spDevice], ['press-1/P-7', ts, 'bad', 'g1', 'e1', 'press-1']);
    } finally {
      await helper.unload();
      await edge.stop();
      await broker.stop();
    }
  });
});

describe('SparkplugReader (Sparkplug B in, pure)', function () {
  const now = 1_800_000_000_000;
  it('resolves aliases per device from births, forgets them on death, and rejects what it cannot read', function () {
    const reader = new SparkplugReader(true);
    const nbirth = encode({ timestamp: now, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 3 }, { name: 'Uptime', alias: 1, type: 'Double', value: 5, timestamp: now }] });
    const dbirth = encode({ timestamp: now, seq: 1, metrics: [{ name: 'Temp', alias: 7, type: 'Float', value: 20, timestamp: now, properties: { engUnit: { type: 'String', value: 'degC' } } }] });
    const ddata = encode({ timestamp: now, seq: 2, metrics: [{ alias: 7, type: 'Float', value: 21.5, timestamp: now + 1, properties: { Quality: { type: 'Int32', value: 64 } } }, { alias: 9, type: 'Float', value: 1 }] });
    // DBIRTH before NBIRTH
    let r = reader.read('spBv1.0/g/DBIRTH/e/d1', dbirth, now);
    assert.strictEqual(r.errors?.[0].code, 'no_birth');
    assert.strictEqual(r.rebirth?.topic, 'spBv1.0/g/NCMD/e');
    r = reader.read('spBv1.0/g/NBIRTH/e', nbirth, now);
    assert.deepStrictEqual(r.items.map((i) => [i.sensorId, i.value]), [['e/Uptime', 5]]);
    r = reader.read('spBv1.0/g/DBIRTH/e/d1', dbirth, now);
    assert.deepStrictEqual(r.items.map((i) => [i.sensorId, i.value, i.unit]), [['d1/Temp', 20, 'degC']]);
    r = reader.read('spBv1.0/g/DDATA/e/d1', ddata, now);
    assert.deepStrictEqual(r.items.map((i) => [i.sensorId, i.value, i.ts, i.quality, i.unit]), [['d1/Temp', 21.5, now + 1, 'uncertain', 'degC']]);
    assert.strictEqual(r.errors?.[0].code, 'no_birth', 'an alias not in the birth');
    assert.match(r.errors?.[0].message ?? '', /alias 9/);
    // another device of the same edge node has no birth yet
    assert.strictEqual(reader.read('spBv1.0/g/DDATA/e/d2', ddata, now).errors?.[0].code, 'no_birth');
    // NDEATH forgets the births
    reader.read('spBv1.0/g/NDEATH/e', encode({ timestamp: now, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 3 }] }), now);
    r = reader.read('spBv1.0/g/DDATA/e/d1', ddata, now + 20000);
    assert.strictEqual(r.errors?.[0].code, 'no_birth');
    assert.strictEqual(r.items.length, 0);
    assert.strictEqual(reader.read('spBv1.0/g/DDATA/e/d1', Buffer.from('not protobuf {'), now).errors?.[0].code, 'malformed_payload');
    // mqtt in "auto-detect" turns a payload that is valid UTF-8 into a string: the same bytes come back
    assert.ok(isSparkplug('spBv1.0/g/NBIRTH/e', 'text') && !isSparkplug('spBv1.0/STATE/h', 'x') && !isSparkplug('sensors/a', Buffer.from('x')));
    const text = nbirth.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(nbirth)) assert.deepStrictEqual(sparkplugBytes(text), nbirth);
  });

  it('asks for a rebirth at most once per edge node every 10 s, and only when enabled', function () {
    const ddata = encode({ timestamp: now, seq: 2, metrics: [{ alias: 7, type: 'Float', value: 21.5 }] });
    const reader = new SparkplugReader(true);
    assert.ok(reader.read('spBv1.0/g/DDATA/e/d1', ddata, now).rebirth);
    assert.strictEqual(reader.read('spBv1.0/g/DDATA/e/d1', ddata, now + 1000).rebirth, undefined);
    assert.ok(reader.read('spBv1.0/g/DDATA/e/d1', ddata, now + 10000).rebirth);
    assert.strictEqual(new SparkplugReader(false).read('spBv1.0/g/DDATA/e/d1', ddata, now).rebirth, undefined);
  });
});
