import assert from 'assert';
import { compilePath, conversion, getPath, Normalizer, NormalizerConfig, parseTimestamp, TopicParser, tryNormalize, canonicalUnit } from '../../nodes/lib/normalizer';
import type { Reading } from '../../nodes/lib/types';

const NOW = Date.UTC(2026, 5, 1, 10, 0, 0);

function run(config: NormalizerConfig, topic: unknown, payload: unknown, now = NOW) {
  const n = new Normalizer(config);
  const out: Reading[] = [];
  const errs = n.normalize(topic, payload, now, null, out);
  return { out, errs: errs ?? [] };
}

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} is not ${b}`);

describe('normalizer core', function () {
  describe('defaults (DESIGN.md "Normalizer defaults")', function () {
    it('reads the seed shape with timestamps in s, ms and ISO 8601', function () {
      for (const [ts, want] of [[1686000000, 1686000000000], [1686000000123, 1686000000123], ['2023-06-05T21:20:00Z', 1686000000000]] as const) {
        const { out, errs } = run({}, 'sensors/TEMP-01/data', JSON.stringify({ sensor_id: 'TEMP-01', temperature: 42.5, timestamp: ts }));
        assert.deepStrictEqual(errs, []);
        assert.deepStrictEqual(out, [{ sensorId: 'TEMP-01', value: 42.5, ts: want, quality: 'good', measurement: 'temperature' }]);
      }
    });

    it('reads { sensorId, value, ts, unit } and derives the measurement from the unit', function () {
      const { out } = run({}, 'x', { sensorId: 'P-7', value: 3.2, ts: '2026-06-01T10:00:00Z', unit: 'bar' });
      assert.deepStrictEqual(out, [{ sensorId: 'P-7', value: 3.2, ts: NOW, quality: 'good', unit: 'bar', measurement: 'pressure' }]);
    });

    it('reads a bare number or numeric string with the sensorId from the topic and arrival time', function () {
      for (const p of [21.5, '21.5', ' 21.5\n', Buffer.from('21.5')]) {
        const { out } = run({}, 'sensors/TEMP-02/data', p);
        assert.deepStrictEqual(out, [{ sensorId: 'TEMP-02', value: 21.5, ts: NOW, quality: 'good' }]);
      }
      assert.deepStrictEqual(run({}, 'plant/line1/TT-9/temperature', '55').out[0].measurement, 'temperature');
      assert.deepStrictEqual(run({}, 'sensors/TT-9/temp_f', '55').out[0].unit, 'degF');
    });

    it('passes the OPC-UA poller\'s readings through, validated, with their extra fields', function () {
      const r = { sensorId: 'PLC-1', value: 7, ts: NOW - 5, quality: 'uncertain', unit: 'mA', statusCode: 'UncertainLastUsableValue', plantId: 'p', lineId: 'l', tags: { area: 'A' } };
      const { out } = run({}, undefined, [r, { ...r, sensorId: 'PLC-2', value: false, unit: undefined, quality: 'bad' }]);
      assert.deepStrictEqual(out[0], { ...r, measurement: 'current' });
      assert.deepStrictEqual([out[1].value, out[1].quality], [false, 'bad']);
    });

    it('keeps the poller\'s backfill flag on the readings that have it, and adds nothing to the others', function () {
      const live = { sensorId: 'PLC-1', value: 7, ts: NOW - 5, quality: 'good', statusCode: 'Good' };
      const old = { sensorId: 'PLC-1', value: 6, ts: NOW - 20000, quality: 'good', statusCode: 'Good', backfill: true };
      const { out, errs } = run({}, undefined, [old, live, { ...old, backfill: false }, { ...old, backfill: 'yes' }]);
      assert.deepStrictEqual(errs, []);
      assert.deepStrictEqual(out, [old, live, { ...old, backfill: undefined }, { ...old, backfill: undefined }].map((r) => JSON.parse(JSON.stringify(r))));
      // the editor's "try it" panel shows the same
      assert.deepStrictEqual(tryNormalize({}, 'x', JSON.stringify(old), null, NOW).readings, [old]);
      // a single reading and a container pass it on too
      assert.strictEqual(run({}, 'x', old).out[0].backfill, true);
      assert.deepStrictEqual(run({}, 'x', { backfill: true, readings: [{ sensorId: 'A', value: 1, ts: NOW }] }).out, [{ sensorId: 'A', value: 1, ts: NOW, quality: 'good', backfill: true }]);
    });

    it('makes one reading per measurement, with units from key suffixes and nested objects', function () {
      const { out } = run({}, 't', { sensor_id: 'ENV-3', temperature: 21, humidity: 40, pressure_kpa: '101.3', vib_mm_s: 2.5, seq: 99, flow: { value: 12, unit: 'm3/h' } });
      assert.deepStrictEqual(out.map((r) => [r.measurement, r.value, r.unit]), [
        ['temperature', 21, undefined], ['humidity', 40, '%RH'], ['pressure', 101.3, 'kPa'], ['vibration', 2.5, 'mm/s'], ['flow', 12, 'm3/h'],
      ]);
      assert.ok(out.every((r) => r.sensorId === 'ENV-3'));
    });

    it('reads containers and metrics lists, inheriting sensorId and time', function () {
      const { out, errs } = run({}, 't', { device: 'GW-1', ts: 1686000000, data: { temperature: 20 }, metrics: [{ name: 'humidity', value: 30 }, { name: 'S-9', value: 1 }] });
      assert.deepStrictEqual(errs, []);
      assert.deepStrictEqual(out.map((r) => [r.sensorId, r.measurement, r.value, r.ts]), [
        ['GW-1', 'temperature', 20, 1686000000000], ['GW-1', 'humidity', 30, 1686000000000], ['S-9', undefined, 1, 1686000000000],
      ]);
    });
  });

  describe('bad input', function () {
    const cases: Array<[string, unknown, string]> = [
      ['malformed JSON', '{"sensor_id":"A","temperature":', 'malformed_json'],
      ['JSON with NaN', '{"sensorId":"A","value":NaN}', 'malformed_json'],
      ['binary Buffer', Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'unsupported_payload'],
      ['empty text', '   ', 'empty'],
      ['null', null, 'empty'],
      ['empty array', [], 'no_readings'],
      ['NaN value', { sensorId: 'A', value: NaN }, 'not_finite'],
      ['Infinity measurement', { sensor_id: 'A', temperature: -Infinity }, 'not_finite'],
      ['"Infinity" text', { sensorId: 'A', value: 'Infinity' }, 'not_finite'],
      ['boolean temperature', { sensor_id: 'A', temperature: false }, 'not_a_number'],
      ['boolean with a unit', { sensorId: 'A', value: true, unit: 'bar' }, 'not_a_number'],
      ['text temperature', { sensor_id: 'A', temperature: 'hot' }, 'not_a_number'],
      ['object value', { sensorId: 'A', value: { x: 1 } }, 'not_a_number'],
      ['null value', { sensorId: 'A', value: null }, 'no_value'],
      ['no sensorId', { value: 1, unit: 'bar' }, 'no_sensor_id'],
      ['object sensorId', { sensorId: { a: 1 }, value: 1 }, 'bad_sensor_id'],
      ['__proto__ sensorId', { sensorId: '__proto__', value: 1 }, 'bad_sensor_id'],
      ['bad timestamp', { sensorId: 'A', value: 1, ts: 'yesterday' }, 'bad_timestamp'],
      ['negative timestamp', { sensorId: 'A', value: 1, ts: -5 }, 'bad_timestamp'],
      ['impossible temperature', { sensor_id: 'A', temperature: 10000 }, 'implausible'],
      ['impossible kelvin', { sensorId: 'A', value: -3, unit: 'K' }, 'implausible'],
      ['humidity above 100', { sensor_id: 'A', humidity: 140 }, 'implausible'],
      ['temperature in bar', { sensorId: 'A', measurement: 'temperature', value: 3, unit: 'bar' }, 'unit_mismatch'],
      ['nothing recognisable', { foo: 'bar' }, 'no_readings'],
      ['a function', () => 1, 'unsupported_payload'],
      ['a date', new Date(), 'unsupported_payload'],
      ['plain text', 'hello world', 'unsupported_payload'],
    ];
    for (const [what, payload, code] of cases) {
      it(`${what} → ${code}`, function () {
        const { out, errs } = run({}, code === 'no_sensor_id' ? undefined : 'sensors/S/data', payload);
        assert.deepStrictEqual(out, []);
        assert.strictEqual(errs[0]?.code, code, JSON.stringify(errs));
        assert.ok(errs[0].message.length > 0);
      });
    }

    it('keeps the good items of a mixed junk array and reports each bad one with its index', function () {
      const { out, errs } = run({}, 't', [1, 'x', null, { sensorId: 'OK', value: 2 }, [], undefined, { sensorId: 'B', value: 'NaN' }]);
      assert.deepStrictEqual(out.map((r) => r.sensorId), ['OK']);
      assert.deepStrictEqual(errs.map((e) => [e.index, e.code]), [[0, 'bad_item'], [1, 'bad_item'], [2, 'bad_item'], [4, 'bad_item'], [5, 'bad_item'], [6, 'not_finite']]);
    });

    it('ignores and reports __proto__/constructor/prototype keys without polluting anything', function () {
      const payload = JSON.parse('{"sensor_id":"A","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"prototype":5,"temperature":20,"tags":{"__proto__":{"x":1},"constructor":"y","ok":"z"}}');
      const { out, errs } = run({}, 't', payload);
      assert.strictEqual(({} as any).polluted, undefined);
      assert.deepStrictEqual(out.map((r) => r.measurement), ['temperature']);
      assert.deepStrictEqual(errs.map((e) => e.code), ['forbidden_key', 'forbidden_key', 'forbidden_key']);
      const tagged = run({}, 't', JSON.parse('{"sensorId":"A","value":1,"tags":{"__proto__":{"x":1},"constructor":"y","ok":"z"}}')).out[0];
      assert.deepStrictEqual(Object.keys(tagged.tags as object), ['ok']);
      assert.strictEqual(Object.getPrototypeOf(tagged.tags), Object.prototype);
    });

    it('survives deep nesting: text, objects and containers', function () {
      const deep = '{"a":'.repeat(50000) + '1' + '}'.repeat(50000);
      assert.strictEqual(run({}, 't', deep).errs[0].code, 'no_readings');
      let obj: any = { temperature: 1 };
      for (let i = 0; i < 10; i++) obj = { sensor_id: 'A', data: obj };
      const { out, errs } = run({}, 't', obj);
      assert.strictEqual(out.length, 0);
      assert.ok(errs.some((e) => e.code === 'too_deep'));
      let chain: any = 1;
      for (let i = 0; i < 100000; i++) chain = { x: chain };
      assert.ok(new Normalizer({}).tooDeep(chain));
      assert.ok(!new Normalizer({}).tooDeep({ a: { b: 1 } }));
    });

    it('rejects payloads over the byte limit before parsing; reads a 1 MB payload under it', function () {
      const items: string[] = [];
      let size = 2;
      for (let i = 0; size < 1000000; i++) {
        const s = `{"sensorId":"S-${i}","value":${i},"ts":${1686000000000 + i}}`;
        items.push(s);
        size += s.length + 1;
      }
      const big = `[${items.join(',')}]`;
      const ok = run({}, 't', big);
      assert.strictEqual(ok.errs.length, 0);
      assert.strictEqual(ok.out.length, items.length);
      assert.strictEqual(run({ maxBytes: 1000 }, 't', big).errs[0].code, 'too_large');
      assert.strictEqual(run({ maxBytes: 1000 }, 't', Buffer.from(big)).errs[0].code, 'too_large');
    });

    it('caps readings per message and reports the overflow', function () {
      const { out, errs } = run({ maxReadings: 3 }, 't', [1, 2, 3, 4, 5].map((v) => ({ sensorId: 'A', value: v })));
      assert.strictEqual(out.length, 3);
      assert.strictEqual(errs[0].code, 'too_many');
    });
  });

  describe('settings', function () {
    it('takes the sensorId from a topic pattern, a path or a fixed value', function () {
      const topic = run({ sensorIdFrom: 'topic', topicPattern: 'site/+plantId/+lineId/+sensorId/#' }, 'site/p1/l2/TT-4/raw/x', '5');
      assert.deepStrictEqual(topic.out[0].sensorId, 'TT-4');
      assert.strictEqual(run({ sensorIdFrom: 'topic', topicPattern: 'sensors/+sensorId/data' }, 'other/TT-4/data', '5').errs[0].code, 'no_sensor_id');
      assert.strictEqual(run({ sensorIdFrom: 'path', sensorIdPath: 'dev.ids[1]' }, 't', { dev: { ids: ['a', 'B-2'] }, value: 1 }).out[0].sensorId, 'B-2');
      assert.strictEqual(run({ sensorIdFrom: 'fixed', sensorIdValue: 'FIX-1' }, 't', '3').out[0].sensorId, 'FIX-1');
    });

    it('reads value, timestamp, unit and quality paths', function () {
      const cfg: NormalizerConfig = {
        values: [{ path: 'd.t', measurement: 'temperature', unit: 'degF' }, { path: 'd.p_raw' }],
        tsPath: 'meta.time', tsFormat: 'us', qualityPath: 'meta.q',
      };
      const { out, errs } = run(cfg, 'sensors/X/data', { id: 'X', d: { t: 212 }, meta: { time: 1686000000000000, q: 'Bad_SensorFailure' } });
      assert.deepStrictEqual(out.map((r) => [r.sensorId, r.measurement, r.value, r.unit, r.ts, r.quality]), [['X', 'temperature', 212, 'degF', 1686000000000, 'bad']]);
      assert.strictEqual(errs[0].code, 'no_value');
      assert.strictEqual(run({ values: [{ path: 'payload' }] }, 'sensors/Y/data', 'RUNNING').out[0].value, 'RUNNING');
    });

    it('converts units and scales raw ranges (4-20 mA, 0-27648 counts)', function () {
      const rules = [
        { match: 'TT-*', rawMin: 4, rawMax: 20, engMin: -50, engMax: 150, from: 'degC' },
        { match: 'PT-1', rawMin: 0, rawMax: 27648, engMin: 0, engMax: 10, from: 'bar', to: 'psi' },
        { match: 'temperature', to: 'K' },
        { match: 'vibration', from: 'in/s', to: 'mm/s' },
        { match: 'acceleration', from: 'g', to: 'm/s²' },
      ];
      const v = (id: string, p: unknown) => run({ rules }, `sensors/${id}/data`, p).out[0];
      close(v('TT-1', 12).value as number, 50);
      assert.strictEqual(v('TT-1', 12).unit, 'degC');
      close(v('PT-1', 13824).value as number, 5 * 14.503773773020923);
      close(v('X', { sensor_id: 'X', temperature: '25', unit: '°C' }).value as number, 298.15);
      close(v('X', { sensorId: 'X', value: 77, unit: 'degF', measurement: 'temperature' }).value as number, 298.15);
      close(v('X', { sensor_id: 'X', vibration: 1 }).value as number, 25.4);
      close(v('X', { sensor_id: 'X', acceleration: 2 }).value as number, 19.6133);
      assert.strictEqual(run({ rules }, 't', { sensor_id: 'X', temperature: 5 }).errs[0].code, 'unknown_unit');
      const outOfLoop = v('TT-1', 2);
      assert.strictEqual(outOfLoop.quality, 'uncertain', 'a broken 4-20 mA loop is uncertain');
    });

    it('applies plausibility limits from rules in the output unit', function () {
      const rules = [{ match: 'temperature', from: 'degC', to: 'degF', min: -40, max: 300 }];
      close(run({ rules }, 't', { sensor_id: 'A', temperature: 100 }).out[0].value as number, 212, 1e-9);
      assert.strictEqual(run({ rules }, 't', { sensor_id: 'A', temperature: 200 }).errs[0].code, 'implausible');
    });

    it('guards against clock skew: correct to arrival time as uncertain, or reject', function () {
      const future = { sensorId: 'A', value: 1, ts: NOW + 3600000 };
      const past = { sensorId: 'A', value: 1, ts: NOW - 30 * 86400000 };
      assert.deepStrictEqual(run({}, 't', future).out[0].ts, NOW + 3600000, 'off by default');
      const corrected = run({ skew: 'correct', maxFutureMs: 60000 }, 't', future).out[0];
      assert.deepStrictEqual([corrected.ts, corrected.quality], [NOW, 'uncertain']);
      assert.strictEqual(run({ skew: 'correct' }, 't', past).out[0].ts, NOW);
      assert.strictEqual(run({ skew: 'invalid' }, 't', past).errs[0].code, 'clock_skew');
      assert.strictEqual(run({ skew: 'invalid', maxPastMs: 0 }, 't', past).out[0].ts, past.ts, 'maxPastMs 0 = no past limit');
      assert.strictEqual(run({ tsFormat: 'arrival' }, 't', past).out[0].ts, NOW);
    });

    it('enriches readings with plantId, lineId, assetId and tags, without sharing tag objects', function () {
      const n = new Normalizer({});
      const out: Reading[] = [];
      n.normalize('t', { sensor_id: 'A', temperature: 1, humidity: 2 }, NOW, { plantId: 'p', lineId: 'l', assetId: 'a', tags: { k: 'v' } }, out);
      assert.deepStrictEqual(out.map((r) => [r.plantId, r.lineId, r.assetId, r.tags]), [['p', 'l', 'a', { k: 'v' }], ['p', 'l', 'a', { k: 'v' }]]);
      assert.notStrictEqual(out[0].tags, out[1].tags);
    });

    it('rejects bad settings with a clear message', function () {
      const bad: Array<[NormalizerConfig, RegExp]> = [
        [{ sensorIdFrom: 'topic' }, /topic pattern/],
        [{ topicPattern: 'a/+foo/b' }, /unknown segment name "foo"/],
        [{ sensorIdFrom: 'path' }, /needs the path/],
        [{ sensorIdPath: 'a.__proto__.b' }, /forbidden key/],
        [{ rules: [{ match: 'x', to: 'parsecs' }] }, /unknown unit "parsecs"/],
        [{ rules: [{ match: 'x', from: 'degC', to: 'bar' }] }, /cannot convert degC to bar/],
        [{ rules: [{ match: 'temperature', to: 'bar' }] }, /temperature cannot be converted to bar/],
        [{ rules: [{ rawMin: 4, rawMax: 20 }] }, /scaling needs/],
        [{ rules: [{ min: 5, max: 1 }] }, /min is above max/],
        [{ tsFormat: 'weekday' as any }, /timestamp format/],
        [{ output: 'all' as any }, /output/],
      ];
      for (const [cfg, re] of bad) {
        const r = tryNormalize(cfg, 't', '1', null);
        assert.match(r.configError ?? '', re, JSON.stringify(cfg));
      }
    });
  });

  describe('building blocks', function () {
    it('converts between the listed units', function () {
      const c = (v: number, f: string, t: string) => { const l = conversion(f, t)!; return v * l.a + l.b; };
      close(c(100, 'degC', 'degF'), 212); close(c(32, 'degF', 'degC'), 0); close(c(0, 'degC', 'K'), 273.15);
      close(c(1, 'bar', 'kPa'), 100); close(c(1, 'bar', 'mbar'), 1000); close(c(1, 'psi', 'Pa'), 6894.757293168361); close(c(100000, 'Pa', 'bar'), 1);
      close(c(1, 'in/s', 'mm/s'), 25.4); close(c(1, 'g', 'm/s²'), 9.80665); close(c(1, 'A', 'mA'), 1000);
      assert.strictEqual(conversion('degC', 'bar'), undefined);
      assert.deepStrictEqual(['°C', 'celsius', 'F', 'KPA', 'psi', 'mm/s', 'm/s2', '%rh', 'mA'].map(canonicalUnit), ['degC', 'degC', 'degF', 'kPa', 'psi', 'mm/s', 'm/s²', '%RH', 'mA']);
    });

    it('parses timestamps in every format', function () {
      const ms = 1686000000123;
      assert.strictEqual(parseTimestamp(1686000000.123, 'auto'), ms);
      assert.strictEqual(parseTimestamp(ms * 1000, 'auto'), ms);
      assert.strictEqual(parseTimestamp(String(ms * 1e6), 'auto'), ms);
      const ticks = (ms + 11644473600000) * 1e4;
      assert.strictEqual(parseTimestamp(ticks, 'auto'), ms);
      assert.strictEqual(parseTimestamp(ticks, 'opcua'), ms);
      assert.strictEqual(parseTimestamp(BigInt(ticks), 'opcua'), ms);
      assert.strictEqual(parseTimestamp('2023-06-05T21:20:00.123Z', 'iso'), ms);
      assert.strictEqual(parseTimestamp(new Date(ms), 'auto'), ms);
      assert.strictEqual(parseTimestamp(1686000000, 's'), 1686000000000);
      assert.ok(Number.isNaN(parseTimestamp('2023-06-05', 's')));
      assert.ok(Number.isNaN(parseTimestamp(ms, 'iso')));
      assert.ok(Number.isNaN(parseTimestamp({}, 'auto')));
    });

    it('compiles and follows paths through own properties only', function () {
      assert.deepStrictEqual(compilePath('msg.payload.a.b[2]["c.d"]'), ['a', 'b', 2, 'c.d']);
      assert.throws(() => compilePath('a..b'), /bad path/);
      assert.throws(() => compilePath('constructor.prototype'), /forbidden/);
      assert.strictEqual(getPath({ a: [{ b: 5 }] }, compilePath('a[0].b')), 5);
      assert.strictEqual(getPath({}, compilePath('toString')), undefined);
    });

    it('parses topics by pattern and heuristic, and caches them', function () {
      const p = new TopicParser('plant/+plantId/+lineId/+sensorId/+measurement');
      assert.deepStrictEqual({ ...p.parse('plant/p1/l1/T-1/temp_c') }, { plantId: 'p1', lineId: 'l1', sensorId: 'T-1', measurement: 'temperature', unit: 'degC' });
      assert.strictEqual(p.parse('plant/p1/l1/T-1/temp/extra').sensorId, undefined);
      assert.strictEqual(p.parse('plant/p1/l1/T-1/temp_c'), p.parse('plant/p1/l1/T-1/temp_c'), 'cached');
      const h = new TopicParser('');
      assert.deepStrictEqual(['sensors/TEMP-01/data', 'plant/line1/TEMP-01', 'TEMP-01', 'a/b/PT-3/pressure/value'].map((t) => h.parse(t).sensorId), ['TEMP-01', 'TEMP-01', 'TEMP-01', 'PT-3']);
    });
  });
});
