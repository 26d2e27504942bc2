// Sparkplug B edge node model and topics (pure): seq and bdSeq wrapping, aliases, births, STATE payloads of both versions.
import assert from 'assert';
import { decode } from '../../nodes/lib/sparkplug/codec';
import { EdgeNodeModel, Sample } from '../../nodes/lib/sparkplug/edge-node';
import { toSamples } from '../../nodes/lib/sparkplug/samples';
import { idProblem, parseState, parseTopic, stateTopic } from '../../nodes/lib/sparkplug/topics';

const s = (metric: string, value: Sample['value'], ts = 1, device = 'line-1'): Sample => ({ device, metric, value, ts, quality: 'good' });

describe('Sparkplug B edge node model', function () {
  it('seq: NBIRTH is 0, every later message counts on and wraps 255 → 0; NBIRTH starts over', function () {
    const m = new EdgeNodeModel('g', 'e');
    m.nextSession();
    assert.strictEqual(decode(m.nbirth().payload).seq, 0);
    m.learn([s('T', 1)]);
    const seqs: number[] = [];
    for (let i = 0; i < 300; i++) seqs.push(decode(m.ddata('line-1', [s('T', i)]).payload).seq as number);
    assert.strictEqual(seqs[0], 1);
    assert.strictEqual(seqs[254], 255);
    assert.strictEqual(seqs[255], 0);
    assert.strictEqual(seqs[299], 44);
    assert.strictEqual(decode(m.nbirth().payload).seq, 0);
  });

  it('bdSeq: one per session, wraps after 255; NDEATH and NBIRTH carry the same', function () {
    const m = new EdgeNodeModel('g', 'e');
    for (let i = 0; i < 256; i++) m.nextSession();
    assert.strictEqual(m.bdSeq, 255);
    assert.strictEqual(m.nextSession(), 0);
    const bd = (p: Buffer) => decode(p).metrics?.find((x) => x.name === 'bdSeq')?.value;
    assert.strictEqual(bd(m.ndeath().payload), 0);
    assert.strictEqual(bd(m.nbirth().payload), 0);
    assert.ok(decode(m.nbirth().payload).metrics?.some((x) => x.name === 'Node Control/Rebirth' && x.value === false));
  });

  it('aliases are unique across devices; DDATA carries aliases only; a new metric or datatype needs a DBIRTH', function () {
    const m = new EdgeNodeModel('g', 'e');
    assert.deepStrictEqual([...m.learn([s('T', 1), s('P', 2), s('T', 3, 1, 'line-2')])].sort(), ['line-1', 'line-2']);
    assert.deepStrictEqual([...m.learn([s('T', 4)])], []);
    assert.deepStrictEqual([...m.learn([s('T', 'text')])], ['line-1'], 'datatype changed');
    const b1 = decode(m.dbirth('line-1').payload).metrics ?? [];
    const b2 = decode(m.dbirth('line-2').payload).metrics ?? [];
    const aliases = [...b1, ...b2].map((x) => (x.alias));
    assert.strictEqual(new Set(aliases).size, 3);
    assert.deepStrictEqual(b1.map((x) => [x.name, x.type]), [['T', 'String'], ['P', 'Double']]);
    const d = decode(m.ddata('line-1', [s('P', 7, 123)]).payload).metrics ?? [];
    assert.strictEqual(d[0].name, undefined);
    assert.strictEqual((d[0].alias), (b1[1].alias));
    assert.strictEqual((d[0].timestamp), 123);
    assert.strictEqual(m.ddata('line-1', [s('P', 7)]).topic, 'spBv1.0/g/DDATA/e/line-1');
  });

  it('readings and alarm events → samples (device from lineId or tags, else the default; alarms on their own device)', function () {
    const o = { deviceField: 'lineId', defaultDevice: 'readings', alarmDevice: 'alarms' };
    const r = toSamples([
      { sensorId: 'T', value: 1, ts: 5, quality: 'uncertain', lineId: 'l/1', measurement: 'temperature', unit: 'degC' },
      { sensorId: 'U', value: true, ts: 6, quality: 'good' },
      { sensorId: 'T', kind: 'hi', state: 'active', severity: 2, value: 9, ts: 7, message: 'high' },
    ], o);
    assert.deepStrictEqual(r.samples.map((x) => [x.device, x.metric, x.value, x.quality]), [['l_1', 'T/temperature', 1, 'uncertain'], ['readings', 'U', true, 'good'], ['alarms', 'T/hi', 'active', 'good']]);
    assert.match(toSamples([{ sensorId: 'T', value: 1 }], o).error ?? '', /item 0: T: ts/);
    assert.match(toSamples('text', o).error ?? '', /object is expected/);
  });
});

describe('Sparkplug B topics and STATE', function () {
  it('parses the namespace and refuses anything else', function () {
    assert.deepStrictEqual(parseTopic('spBv1.0/g/DDATA/e/d'), { group: 'g', type: 'DDATA', edgeNode: 'e', device: 'd' });
    assert.deepStrictEqual(parseTopic('spBv1.0/g/NBIRTH/e'), { group: 'g', type: 'NBIRTH', edgeNode: 'e' });
    for (const t of ['spBv1.0/STATE/h', 'spBv1.0/g/XDATA/e', 'spBv1.0/g/DDATA/e/d/x', 'sensors/a/b/c', 'spBv1.0/g/DDATA/e/']) assert.strictEqual(parseTopic(t), null, t);
    assert.match(idProblem('Group ID', 'a/b'), /Group ID "a\/b"/);
    assert.strictEqual(idProblem('Group ID', 'ok'), '');
  });

  it('STATE 3.0 (JSON on spBv1.0/STATE/<id>) and 2.2 (ONLINE/OFFLINE on STATE/<id>) are told apart', function () {
    assert.strictEqual(stateTopic('scada', '3.0'), 'spBv1.0/STATE/scada');
    assert.strictEqual(stateTopic('scada', '2.2'), 'STATE/scada');
    assert.deepStrictEqual(parseState(Buffer.from('{"online":true,"timestamp":1}'), '3.0'), { online: true, timestamp: 1 });
    assert.deepStrictEqual(parseState(Buffer.from('{"online":false,"timestamp":2}'), '3.0'), { online: false, timestamp: 2 });
    assert.strictEqual(parseState(Buffer.from('ONLINE'), '3.0'), null, 'a 2.2 payload is not a 3.0 STATE');
    assert.deepStrictEqual(parseState(Buffer.from('ONLINE'), '2.2'), { online: true });
    assert.deepStrictEqual(parseState(Buffer.from('OFFLINE'), '2.2'), { online: false });
    assert.strictEqual(parseState(Buffer.from('{"online":true}'), '2.2'), null);
  });
});
