import assert from 'assert';
import mqtt from 'mqtt';
import helper from 'node-red-node-test-helper';
import { startAedes } from '../helpers/brokers';
import { waitFor } from '../helpers/wait';

const normalizerNode = require('../../dist/nodes/genix-normalizer.js');
const mqttNode = require('@node-red/nodes/core/network/10-mqtt.js');

const SEED = '{"sensor_id":"TEMP-01","temperature":42.5,"timestamp":1686000000}';

function flow(props: object = {}) {
  return [
    { id: 'n', type: 'genix-normalizer', name: 'norm', wires: [['ok'], ['bad']], ...props },
    { id: 'ok', type: 'helper' },
    { id: 'bad', type: 'helper' },
  ];
}

async function load(props: object = {}, extra: object[] = [], nodes: any[] = [normalizerNode]) {
  await helper.load(nodes, [...flow(props), ...extra]);
  const ok: any[] = [];
  const bad: any[] = [];
  helper.getNode('ok').on('input', (m: any) => ok.push(m));
  helper.getNode('bad').on('input', (m: any) => bad.push(m));
  return { n: helper.getNode('n'), ok, bad };
}

describe('genix-normalizer node', function () {
  afterEach(async function () {
    await helper.unload();
  });

  it('turns a stock MQTT-in seed message (text) into a reading with topic = sensorId', async function () {
    const { n, ok, bad } = await load();
    n.receive({ topic: 'sensors/TEMP-01/data', payload: SEED, qos: 0, retain: false });
    await waitFor(() => ok.length === 1, 'one reading');
    assert.deepStrictEqual(ok[0].payload, { sensorId: 'TEMP-01', value: 42.5, ts: 1686000000000, quality: 'good', measurement: 'temperature' });
    assert.strictEqual(ok[0].topic, 'TEMP-01');
    assert.strictEqual(ok[0].qos, 0, 'other msg properties are kept');
    assert.strictEqual(bad.length, 0);
  });

  it('sends one message per measurement, or one batch message per input', async function () {
    const each = await load();
    each.n.receive({ topic: 'x', payload: '{"sensor_id":"ENV-3","temperature":21,"humidity":40}' });
    await waitFor(() => each.ok.length === 2, 'two readings');
    assert.deepStrictEqual(each.ok.map((m) => [m.topic, m.payload.measurement, m.payload.value]), [['ENV-3', 'temperature', 21], ['ENV-3', 'humidity', 40]]);
    assert.notStrictEqual(each.ok[0], each.ok[1], 'distinct message objects');
    await helper.unload();

    const batch = await load({ output: 'batch' });
    batch.n.receive({ topic: 'x', payload: [{ sensorId: 'A', value: 1 }, { sensorId: 'B', value: 2 }, { sensorId: 'C', value: 3 }] });
    await waitFor(() => batch.ok.length === 1, 'one batch');
    assert.deepStrictEqual(batch.ok[0].payload.map((r: any) => r.sensorId), ['A', 'B', 'C']);
  });

  it('reads Buffers as stock MQTT-in delivers them', async function () {
    const { n, ok } = await load();
    n.receive({ topic: 'sensors/PRES-01/data', payload: Buffer.from('{"sensor_id":"PRES-01","pressure_kpa":"101.3"}') });
    await waitFor(() => ok.length === 1, 'reading');
    assert.deepStrictEqual([ok[0].payload.value, ok[0].payload.unit, ok[0].payload.measurement], [101.3, 'kPa', 'pressure']);
  });

  it('sends malformed JSON to the invalid output with msg.error and the original payload', async function () {
    const { n, ok, bad } = await load();
    n.receive({ topic: 'sensors/T/data', payload: '{"sensor_id":"T","temperature":' });
    n.receive({ topic: 'sensors/T/data', payload: Buffer.from([0xff, 0xfe, 0x7b, 0x00]) });
    await waitFor(() => bad.length === 2, 'two invalid messages');
    assert.strictEqual(bad[0].error.code, 'malformed_json');
    assert.match(bad[0].error.message, /JSON/);
    assert.strictEqual(bad[0].payload, '{"sensor_id":"T","temperature":');
    assert.ok(Buffer.isBuffer(bad[1].payload), 'the Buffer travels on untouched');
    assert.strictEqual(bad[1].error.code, 'unsupported_payload');
    assert.strictEqual(ok.length, 0);
  });

  it('handles NaN, Infinity and booleans where numbers are expected', async function () {
    const { n, ok, bad } = await load();
    n.receive({ topic: 't', payload: { sensor_id: 'A', temperature: NaN } });
    n.receive({ topic: 't', payload: { sensorId: 'B', value: Infinity, unit: 'bar' } });
    n.receive({ topic: 't', payload: { sensor_id: 'C', pressure: true } });
    n.receive({ topic: 'sensors/DOOR-1/state', payload: 'true' });
    await waitFor(() => bad.length === 3 && ok.length === 1, 'three invalid, one discrete reading');
    assert.deepStrictEqual(bad.map((m) => m.error.code), ['not_finite', 'not_finite', 'not_a_number']);
    assert.deepStrictEqual([ok[0].payload.sensorId, ok[0].payload.value], ['DOOR-1', true]);
  });

  it('keeps the valid readings of a mixed junk array and explains every bad item', async function () {
    const { n, ok, bad } = await load({ output: 'batch' });
    const junk = [null, 7, 'x', [], true, { sensorId: 'GOOD', value: 1.5 }, { sensorId: 'NAN', value: NaN }, {}, { sensor_id: 'T', temperature: 99999 }];
    n.receive({ topic: 't', payload: junk });
    await waitFor(() => ok.length === 1 && bad.length === 1, 'one batch and one invalid message');
    assert.deepStrictEqual(ok[0].payload.map((r: any) => r.sensorId), ['GOOD']);
    assert.strictEqual(bad[0].payload, junk, 'the invalid message carries the original payload');
    assert.deepStrictEqual(bad[0].errors.map((e: any) => [e.index, e.code]), [
      [0, 'bad_item'], [1, 'bad_item'], [2, 'bad_item'], [3, 'bad_item'], [4, 'bad_item'], [6, 'not_finite'], [7, 'no_readings'], [8, 'implausible'],
    ]);
    assert.strictEqual(bad[0].error.code, 'bad_item');
  });

  it('never writes __proto__/constructor keys: no pollution, no prototype tags', async function () {
    const { n, ok, bad } = await load({ tags: [{ key: 'site', value: 'north', type: 'str' }] });
    const hostile = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"sensorId":"X","value":1,"tags":{"__proto__":{"polluted":3},"area":"A"}}';
    n.receive({ topic: 't', payload: hostile });
    await waitFor(() => ok.length === 1 && bad.length === 1, 'reading and report');
    assert.strictEqual(({} as any).polluted, undefined);
    const tags = ok[0].payload.tags;
    assert.deepStrictEqual(Object.keys(tags).sort(), ['area', 'site']);
    assert.strictEqual(Object.getPrototypeOf(tags), Object.prototype);
    assert.strictEqual(bad[0].error.code, 'forbidden_key');
  });

  it('rejects a __proto__ tag key in the settings at deploy, and reports every message as config_error', async function () {
    const { n, ok, bad } = await load({ tags: [{ key: '__proto__', value: 'x', type: 'str' }] });
    n.receive({ topic: 'sensors/T/data', payload: SEED });
    await waitFor(() => bad.length === 1, 'invalid message');
    assert.strictEqual(bad[0].error.code, 'config_error');
    assert.strictEqual(ok.length, 0);
    const err = (n as any).error;
    assert.ok(err.called, 'node.error reported the settings');
  });

  it('survives deeply nested payloads: text stays text, objects lose the payload', async function () {
    const { n, bad } = await load();
    const deepText = '['.repeat(100000) + ']'.repeat(100000);
    let deepObj: any = { v: 1 };
    for (let i = 0; i < 5000; i++) deepObj = { sensorId: 'D', value: deepObj };
    n.receive({ topic: 't', payload: deepText });
    n.receive({ topic: 't', payload: deepObj });
    await waitFor(() => bad.length === 2, 'two invalid messages');
    assert.strictEqual(bad[0].payload, deepText);
    assert.strictEqual(bad[0].error.code, 'bad_item');
    assert.strictEqual(bad[1].error.code, 'too_deep');
    assert.strictEqual(bad[1].payload, undefined);
  });

  it('rejects payloads over the byte limit without parsing, and reads a 1 MB batch under it', async function () {
    const { n, ok, bad } = await load({ output: 'batch', maxBytes: 1048576 });
    const rows: string[] = [];
    for (let i = 0, size = 0; size < 1000000; i++) {
      const row = `{"sensorId":"S-${i % 500}","value":${i},"ts":${1686000000000 + i}}`;
      rows.push(row);
      size += row.length + 1;
    }
    const big = `[${rows.join(',')}]`;
    assert.ok(big.length > 1000000 && big.length < 1048576);
    n.receive({ topic: 't', payload: big });
    n.receive({ topic: 't', payload: Buffer.alloc(1048577, 0x20) });
    n.receive({ topic: 't', payload: `"${'x'.repeat(1048577)}"` });
    await waitFor(() => ok.length === 1 && bad.length === 2, 'one batch, two rejections');
    assert.strictEqual(ok[0].payload.length, rows.length);
    assert.deepStrictEqual(bad.map((m) => m.error.code), ['too_large', 'too_large']);
  });

  it('enriches from a constant, msg, flow and global context and the environment', async function () {
    process.env.GENIX_TEST_LINE = 'line-7';
    const { n, ok } = await load({
      plantId: 'plant-xyz', plantIdType: 'str',
      lineId: 'GENIX_TEST_LINE', lineIdType: 'env',
      assetId: 'asset', assetIdType: 'msg',
      tags: [{ key: 'shift', value: 'shift', type: 'flow' }, { key: 'site', value: 'site', type: 'global' }],
      z: 'f1',
    }, [{ id: 'f1', type: 'tab' }]);
    n.context().flow.set('shift', 'night');
    n.context().global.set('site', 'north');
    n.receive({ topic: 'sensors/T/data', payload: SEED, asset: 'pump-3' });
    n.context().flow.set('shift', 'day');
    n.receive({ topic: 'sensors/T/data', payload: SEED, asset: 'pump-4' });
    await waitFor(() => ok.length === 2, 'two readings');
    const r = ok.map((m) => m.payload);
    assert.deepStrictEqual([r[0].plantId, r[0].lineId, r[0].assetId, r[0].tags], ['plant-xyz', 'line-7', 'pump-3', { shift: 'night', site: 'north' }]);
    assert.deepStrictEqual([r[1].assetId, r[1].tags.shift], ['pump-4', 'day']);
    assert.notStrictEqual(r[0].tags, r[1].tags, 'readings do not share tag objects');
  });

  it('applies topic patterns, conversion, scaling and plausibility from the settings', async function () {
    const { n, ok, bad } = await load({
      sensorIdFrom: 'topic', topicPattern: 'plant/+lineId/+sensorId/+measurement',
      rules: [
        { match: 'TT-*', rawMin: '4', rawMax: '20', engMin: '0', engMax: '150', from: 'degC', to: 'degF', outOfRange: 'invalid' },
        { match: 'pressure', from: 'bar', to: 'kPa', min: '0', max: '1000' },
      ],
    });
    n.receive({ topic: 'plant/l1/TT-101/temperature', payload: '12' });
    n.receive({ topic: 'plant/l1/PT-1/pressure', payload: '2.5' });
    n.receive({ topic: 'plant/l1/PT-2/pressure', payload: '25' });
    n.receive({ topic: 'plant/l1/TT-102/temperature', payload: '2' });
    await waitFor(() => ok.length === 2 && bad.length === 2, 'two readings and two rejections');
    assert.deepStrictEqual([ok[0].payload.sensorId, ok[0].payload.unit, ok[0].payload.value], ['TT-101', 'degF', 167]);
    assert.deepStrictEqual([ok[1].payload.value, ok[1].payload.unit], [250, 'kPa']);
    assert.deepStrictEqual(bad.map((m) => m.error.code), ['implausible', 'out_of_range']);
  });

  it('shows valid/invalid counts in a throttled status, not once per message', async function () {
    const { n, ok, bad } = await load();
    for (let i = 0; i < 200; i++) n.receive({ topic: 'sensors/T/data', payload: i % 4 === 0 ? 'junk{' : SEED });
    await waitFor(() => ok.length === 150 && bad.length === 50, 'all messages');
    const status = (n as any).status;
    await waitFor(() => status.called, 'a status update');
    assert.ok(status.callCount <= 2, `status updated ${status.callCount} times for 200 messages`);
    const last = status.lastCall.args[0];
    assert.strictEqual(last.text, 'genix-normalizer.status.counts');
    assert.strictEqual(last.fill, 'yellow');
  });

  it('normalizes real MQTT-in messages from a broker', async function () {
    const broker = await startAedes();
    try {
      const { ok } = await load({}, [
        { id: 'broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(broker.port), clientid: '', autoConnect: true, protocolVersion: '4', keepalive: '60', cleansession: true },
        { id: 'in', type: 'mqtt in', topic: 'sensors/+/data', qos: '1', datatype: 'auto-detect', broker: 'broker', wires: [['n']] },
      ], [mqttNode, normalizerNode]);
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      try {
        await waitFor(async () => {
          await client.publishAsync('sensors/HUM-01/data', '{"sensor_id":"HUM-01","humidity":41.5,"timestamp":1686000000123}', { qos: 1 });
          return ok.length > 0;
        }, 'a reading from the broker', 10000, 200);
        assert.deepStrictEqual(ok[0].payload, { sensorId: 'HUM-01', value: 41.5, ts: 1686000000123, quality: 'good', unit: '%RH', measurement: 'humidity' });
      } finally {
        await client.endAsync();
      }
    } finally {
      await helper.unload();
      await broker.stop();
    }
  });

  describe('try-it endpoint', function () {
    it('returns the readings the dialog settings produce, without deploying them', async function () {
      await load();
      const res = await helper.request().post('/genix/normalizer/try')
        .send({ config: { rules: [{ match: 'temperature', from: 'degC', to: 'K' }], plantId: 'p1', plantIdType: 'str', lineId: 'line', lineIdType: 'msg' }, topic: 'sensors/TEMP-01/data', payload: SEED })
        .expect(200);
      assert.strictEqual(res.body.readings.length, 1);
      const r = res.body.readings[0];
      assert.deepStrictEqual([r.sensorId, r.unit, r.plantId, r.lineId], ['TEMP-01', 'K', 'p1', '(msg.line)']);
      assert.ok(Math.abs(r.value - 315.65) < 1e-9);
    });

    it('explains invalid samples and invalid settings', async function () {
      await load();
      const bad = await helper.request().post('/genix/normalizer/try').send({ config: {}, topic: 't', payload: '{"sensor_id":"X","temperature":"hot"}' }).expect(200);
      assert.deepStrictEqual(bad.body.readings, []);
      assert.strictEqual(bad.body.invalid[0].code, 'not_a_number');
      const cfg = await helper.request().post('/genix/normalizer/try').send({ config: { rules: [{ match: 'x', to: 'furlongs' }] }, topic: 't', payload: '1' }).expect(200);
      assert.match(cfg.body.configError, /furlongs/);
    });
  });
});
