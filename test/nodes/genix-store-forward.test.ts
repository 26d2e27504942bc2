// genix-store-forward in the real Node-RED runtime (test helper), with a core function node as the "cloud"
// that answers msg.delivery like the cloud publisher does and can be switched to fail, stay silent or refuse.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
const helper = require('node-red-node-test-helper');
import { waitFor } from '../helpers/wait';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs';

import fc from 'fast-check';

const sfNode = [require('../../dist/nodes/genix-store-forward.js'), require('@node-red/nodes/core/function/10-function.js')];

// mode: ok | fail | silent | retry-after; readings with bad: true are refused for good, or with badMode
// 'transient' fail forever, or with 'throw' make this node throw (no answer)
const CLOUD = `
const mode = global.get('cloudMode') || 'ok';
if (mode === 'silent') return null;
const badMode = global.get('badMode') || 'permanent';
if ([msg.payload].flat().some((r) => r && r.bad)) {
  if (badMode === 'throw') throw new Error('cannot encode this reading');
  if (badMode === 'transient') { msg.delivery.ok = false; msg.delivery.error = 'try later'; return [msg, null]; }
}
const list = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
if (list.some((r) => r && r.bad)) {
  msg.delivery.ok = false; msg.delivery.permanent = true; msg.delivery.error = 'schema rejected';
  return [msg, null];
}
if (mode === 'fail' || mode === 'retry-after') {
  msg.delivery.ok = false; msg.delivery.error = 'broker down';
  if (mode === 'retry-after') msg.delivery.retryAfterMs = 150;
  return [msg, null];
}
msg.delivery.ok = true;
return [msg, RED.util.cloneMessage(msg)];
`;

let dir: string;

function flow(sf: Record<string, unknown> = {}, extra: object[] = []): any[] {
  const nodes: any[] = [    { id: 'sf', type: 'genix-store-forward', name: 'buffer', dbPath: path.join(dir, 'sf.sqlite'), retryMinMs: 30, retryMaxMs: 200, replayRate: 0, metricsIntervalMs: 0, ackTimeoutMs: 2000, ...sf, wires: [['cloud'], ['metrics']] },
    { id: 'cloud', type: 'function', func: CLOUD, outputs: 2, wires: [['sf'], ['delivered']] },
    { id: 'delivered', type: 'helper' },
    { id: 'metrics', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: ['sf'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    ...extra,
  ];
  // catch nodes need a tab
  return [{ id: 'tab', type: 'tab', label: 'test' }, ...nodes.map((n) => ({ z: 'tab', ...n }))];
}

interface Recorder {
  seqs: number[];
  msgs: any[];
  metrics: any[];
  errors: any[];
}

function record(): Recorder {
  const r: Recorder = { seqs: [], msgs: [], metrics: [], errors: [] };
  helper.getNode('delivered').on('input', (msg: any) => {
    r.msgs.push(msg);
    const list = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
    for (const p of list) if (p && typeof p.seq === 'number') r.seqs.push(p.seq);
  });
  helper.getNode('metrics').on('input', (msg: any) => r.metrics.push(msg));
  helper.getNode('caught').on('input', (msg: any) => r.errors.push(msg));
  return r;
}

const setMode = (mode: string) => helper.getNode('cloud').context().global.set('cloudMode', mode);
const reading = (seq: number, extra: object = {}) => ({ topic: `S-${seq % 3}`, payload: { sensorId: `S-${seq % 3}`, value: seq * 0.5, ts: 1700000000000 + seq, quality: 'good', seq, ...extra } });

function feed(from: number, to: number): void {
  const sf = helper.getNode('sf');
  for (let i = from; i < to; i++) sf.receive(reading(i));
}

async function metricsNow(r: Recorder): Promise<any> {
  const n = r.metrics.length;
  helper.getNode('sf').receive({ command: 'metrics' });
  await waitFor(() => r.metrics.length > n, 'metrics message');
  return r.metrics[r.metrics.length - 1].payload;
}

function assertInOrder(seqs: number[], from: number, to: number): void {
  const want = Array.from({ length: to - from }, (_, i) => from + i);
  assert.deepStrictEqual(seqs, want);
}

describe('genix-store-forward node', function () {
  this.timeout(20000);

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-node-')); });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('forwards every message with msg.delivery and deletes it when acknowledged', async () => {
    await helper.load(sfNode, flow());
    setMode('ok');
    const r = record();
    feed(0, 300);
    await waitFor(() => r.seqs.length >= 300, '300 deliveries');
    assertInOrder(r.seqs, 0, 300);
    const d = r.msgs[0].delivery;
    assert.strictEqual(d.buffer, 'sf');
    assert.ok(Array.isArray(d.ids) && d.ids.length >= 1);
    assert.strictEqual(d.attempt, 1);
    assert.ok(typeof d.token === 'string' && d.token.length >= 8, 'an instance token to prove the answer');
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.backlog === 0 && x.delivered === 300 ? x : null; }, 'empty backlog');
    assert.strictEqual(m.accepted, 300);
    assert.strictEqual(m.inFlight, 0);
  });

  it('keeps everything through an outage and replays it oldest first in batches, message by message complete', async () => {
    await helper.load(sfNode, flow({ replayBatchSize: 50 }));
    setMode('ok');
    const r = record();
    feed(0, 100);
    await waitFor(() => r.seqs.length >= 100, 'first 100 delivered');
    setMode('fail');
    feed(100, 1100);
    const during = await waitFor(async () => { const x = await metricsNow(r); return x.state === 'waiting' && x.backlog === 1000 ? x : null; }, 'waiting with 1000 stored');
    assert.ok(during.failures >= 1);
    assert.strictEqual(r.seqs.length, 100, 'nothing is acknowledged while the cloud is down');
    setMode('ok');
    await waitFor(() => r.seqs.length >= 1100, 'all 1100 delivered');
    assertInOrder(r.seqs, 0, 1100);
    assert.ok(r.msgs.some((m) => Array.isArray(m.payload) && m.payload.length === 50), 'replay used 50-message batches');
    assert.ok(r.msgs.length < 1100 - 100, `replay needed fewer publishes than messages (${r.msgs.length})`);
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.backlog === 0 ? x : null; }, 'backlog drained');
    assert.strictEqual(m.state, 'forwarding');
    assert.strictEqual(m.delivered, 1100);
  });

  it('retries rows that got no answer within ackTimeoutMs, with a higher attempt number', async () => {
    await helper.load(sfNode, flow({ ackTimeoutMs: 150 }));
    setMode('silent');
    const r = record();
    feed(0, 20);
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.timeouts >= 1 ? x : null; }, 'an ack timeout');
    assert.strictEqual(m.backlog, 20);
    setMode('ok');
    await waitFor(() => r.seqs.length >= 20, 'all 20 delivered after the timeout');
    assertInOrder(r.seqs.slice(0, 20), 0, 20);
    assert.ok(r.msgs.every((x) => x.delivery.attempt >= 2), 'delivered on a later attempt');
  });

  it('honours retryAfterMs from the cloud', async () => {
    await helper.load(sfNode, flow({ retryMinMs: 5, retryMaxMs: 10 }));
    setMode('retry-after');
    const r = record();
    const sends: Array<{ at: number; attempt: number }> = [];
    helper.getNode('sf').on('call:send', (c: any) => { const m = c.args[0][0]; if (m) sends.push({ at: Date.now(), attempt: m.delivery.attempt }); });
    feed(0, 5);
    await waitFor(() => sends.some((s) => s.attempt === 2), 'a second attempt');
    const first = sends.find((s) => s.attempt === 1)!.at;
    const second = sends.find((s) => s.attempt === 2)!.at;
    assert.ok(second - first >= 140, `the second attempt waited for retryAfterMs (${second - first} ms)`);
    setMode('ok');
    await waitFor(() => r.seqs.length >= 5, 'delivered');
  });

  it('moves a permanently refused message to the dead letters, delivers the rest of its batch, and reads it back', async () => {
    await helper.load(sfNode, flow({ replayBatchSize: 20 }));
    setMode('fail');
    const r = record();
    const sf = helper.getNode('sf');
    for (let i = 0; i < 60; i++) sf.receive(reading(i, i === 33 ? { bad: true } : {}));
    await waitFor(async () => (await metricsNow(r)).backlog === 60, '60 stored');
    setMode('ok');
    await waitFor(() => r.seqs.length >= 59, '59 delivered');
    assert.deepStrictEqual(r.seqs, Array.from({ length: 60 }, (_, i) => i).filter((i) => i !== 33));
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.deadLetters === 1 && x.backlog === 0 ? x : null; }, 'one dead letter');
    assert.strictEqual(m.delivered, 59);
    const n = r.metrics.length;
    sf.receive({ command: 'deadletters' });
    await waitFor(() => r.metrics.length > n, 'dead letters message');
    const dl = r.metrics[r.metrics.length - 1];
    assert.strictEqual(dl.topic, 'deadletters');
    assert.strictEqual(dl.payload.length, 1);
    assert.strictEqual(dl.payload[0].payload.seq, 33);
    assert.strictEqual(dl.payload[0].error, 'schema rejected');
    const res = await helper.request().get('/genix/store-forward/sf/deadletters').expect(200);
    assert.strictEqual(res.body[0].payload.seq, 33);
  });

  for (const overflow of ['drop-oldest', 'drop-newest']) {
    it(`bounds the backlog at maxMessages with ${overflow} and counts the drops`, async () => {
      await helper.load(sfNode, flow({ maxMessages: 100, overflow }));
      setMode('ok');
      const r = record();
      helper.getNode('sf').receive({ command: 'pause' });
      feed(0, 250);
      const m = await waitFor(async () => { const x = await metricsNow(r); return x.drops.overflow === 150 ? x : null; }, '150 drops');
      assert.strictEqual(m.backlog, 100);
      assert.strictEqual(m.state, 'paused');
      assert.strictEqual(r.seqs.length, 0, 'nothing forwarded while paused');
      helper.getNode('sf').receive({ topic: 'resume' });
      await waitFor(() => r.seqs.length >= 100, '100 delivered');
      if (overflow === 'drop-oldest') assertInOrder(r.seqs, 150, 250);
      else assertInOrder(r.seqs, 0, 100);
    });
  }

  it('bounds the backlog at maxBytes', async () => {
    await helper.load(sfNode, flow({ maxBytes: 20000, overflow: 'drop-oldest' }));
    const r = record();
    helper.getNode('sf').receive({ command: 'pause' });
    feed(0, 1000);
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.accepted === 1000 ? x : null; }, '1000 accepted');
    assert.ok(m.bytes <= 20000, `bytes ${m.bytes}`);
    assert.ok(m.drops.overflow > 500, `drops ${m.drops.overflow}`);
    assert.strictEqual(m.backlog + m.drops.overflow, 1000);
  });

  it('expires messages older than ttlMs and counts them', async () => {
    await helper.load(sfNode, flow({ ttlMs: 150 }));
    const r = record();
    helper.getNode('sf').receive({ command: 'pause' });
    feed(0, 40);
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.drops.ttl === 40 ? x : null; }, '40 expired');
    assert.strictEqual(m.backlog, 0);
    setMode('ok');
    helper.getNode('sf').receive({ command: 'resume' });
    feed(40, 45);
    await waitFor(() => r.seqs.length >= 5, 'fresh messages still flow');
    assertInOrder(r.seqs, 40, 45);
  });

  it('stores topic, JSON payloads, Buffers as bytes and listed extra properties', async () => {
    await helper.load(sfNode, flow({ storeProperties: 'plant, correlationId' }));
    setMode('fail');
    const r = record();
    const sf = helper.getNode('sf');
    sf.receive({ topic: 'raw', payload: Buffer.from([0, 1, 2, 250, 255]), plant: 'P1', correlationId: 'c-9', notStored: 'x' });
    sf.receive({ topic: 'text', payload: 'hello', seqless: true });
    sf.receive({ topic: 'nested', payload: { seq: 1, deep: { a: [1, 2, { b: null }] } } });
    await waitFor(async () => (await metricsNow(r)).backlog === 3, '3 stored');
    setMode('ok');
    const got: any[] = [];
    helper.getNode('delivered').on('input', (m: any) => got.push(m));
    await waitFor(() => got.length >= 3 || (got.length >= 2 && got.some((g) => Array.isArray(g.payload))), 'all three delivered');
    const raw = got.find((g) => g.topic === 'raw');
    assert.ok(Buffer.isBuffer(raw.payload));
    assert.deepStrictEqual([...raw.payload], [0, 1, 2, 250, 255]);
    assert.strictEqual(raw.plant, 'P1');
    assert.strictEqual(raw.correlationId, 'c-9');
    assert.strictEqual(raw.notStored, undefined);
    assert.strictEqual(got.find((g) => g.topic === 'text').payload, 'hello');
    const nested = got.find((g) => (Array.isArray(g.payload) ? g.payload[0] : g.payload)?.deep);
    const p = Array.isArray(nested.payload) ? nested.payload[0] : nested.payload;
    assert.deepStrictEqual(p.deep, { a: [1, 2, { b: null }] });
  });

  it('refuses a message that cannot be stored with done(err), and keeps forwarding the others', async () => {
    await helper.load(sfNode, flow());
    setMode('ok');
    const r = record();
    const sf = helper.getNode('sf');
    const circular: any = { seq: -1 };
    circular.self = circular;
    sf.receive(reading(0));
    sf.receive({ topic: 'bad', payload: circular });
    sf.receive({ topic: 'bad', payload: { n: BigInt(1) } });
    sf.receive(reading(1));
    await waitFor(() => r.errors.length >= 2 && r.seqs.length >= 2, 'two errors and two deliveries');
    assert.match(r.errors[0].error.message, /cannot be stored/);
    assertInOrder(r.seqs, 0, 2);
  });

  it('reports metrics periodically and on msg.topic "metrics", and shows backlog and state in the status', async () => {
    await helper.load(sfNode, flow({ metricsIntervalMs: 100 }));
    setMode('fail');
    const r = record();
    const statuses: any[] = [];
    helper.getNode('sf').on('call:status', (c: any) => statuses.push(c.args[0]));
    const fedAt = Date.now();
    feed(0, 10);
    await waitFor(() => r.metrics.filter((m) => m.payload.backlog === 10).length >= 2, 'two periodic metrics');
    const m = r.metrics[r.metrics.length - 1].payload;
    for (const k of ['backlog', 'bytes', 'oldestAgeMs', 'inFlight', 'deliveredPerSec', 'drops', 'deadLetters', 'state']) assert.ok(k in m, k);
    // two metrics 100 ms apart both saw the 10 rows: the oldest is at least one interval old, and no older than the feed
    assert.ok(m.oldestAgeMs >= 50 && m.oldestAgeMs <= Date.now() - fedAt, `oldestAgeMs ${m.oldestAgeMs}, fed ${Date.now() - fedAt} ms ago`);
    await waitFor(() => statuses.some((s) => /status\.waiting · 10/.test(s.text)), 'status "waiting for cloud · 10"');
    helper.getNode('sf').receive({ topic: 'pause' });
    await waitFor(() => statuses.some((s) => /status\.paused/.test(s.text)), 'paused status');
    const res = await helper.request().get('/genix/store-forward/sf/metrics').expect(200);
    assert.strictEqual(res.body.backlog, 10);
  });

  it('keeps stored and in-flight messages across a redeploy (close commits what is pending)', async () => {
    const f = flow({ ackTimeoutMs: 60000 });
    await helper.load(sfNode, f);
    setMode('silent');
    let r = record();
    feed(0, 200);
    await waitFor(async () => (await metricsNow(r)).inFlight > 0, 'messages in flight');
    // close right after more input: the pending group must be committed on close
    const sf = helper.getNode('sf');
    for (let i = 200; i < 260; i++) sf.receive(reading(i));
    await waitFor(async () => (await metricsNow(r)).accepted === 260, '260 accepted');
    await helper.unload();
    await helper.load(sfNode, f);
    setMode('ok');
    r = record();
    await waitFor(() => r.seqs.length >= 260, 'all 260 delivered after the redeploy');
    assertInOrder(r.seqs, 0, 260);
  });

  it('10,000 fuzzed answers while 1,000 readings wait: nothing deleted or added, no node error, a bounded number of warnings', async () => {
    await helper.load(sfNode, flow({ ackTimeoutMs: 600000 }));
    setMode('silent');
    const r = record();
    const warns: string[] = [];
    const errors: string[] = [];
    const sf = helper.getNode('sf');
    sf.on('call:warn', (c: any) => warns.push(String(c.args[0])));
    sf.on('call:error', (c: any) => errors.push(String(c.args[0])));
    feed(0, 1000);
    await waitFor(async () => { const x = await metricsNow(r); return x.accepted === 1000 && x.inFlight > 0; }, '1,000 stored, sends unanswered');
    const answer = fc.record({
      buffer: fc.oneof(fc.constant('sf'), fc.string(), fc.anything()),
      ids: fc.oneof(fc.array(fc.integer({ min: -3, max: 1100 }), { maxLength: 40 }), fc.integer({ min: 0, max: 20000 }).map((n) => Array.from({ length: n }, (_, i) => i + 1)), fc.anything()),
      seq: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.anything()),
      token: fc.oneof(fc.string(), fc.anything()),
      ok: fc.oneof(fc.boolean(), fc.constant('true'), fc.constant('false'), fc.constant(1), fc.anything()),
      permanent: fc.anything(),
      retryAfterMs: fc.anything(),
    }, { requiredKeys: ['ok'] });
    for (const d of fc.sample(answer, { numRuns: 10000, seed: 7 })) sf.receive({ payload: { junk: true }, delivery: d });
    const m = await waitFor(async () => { const x = await metricsNow(r); return x.rejectedAnswers >= 10000 ? x : null; }, 'every answer counted', 20000);
    assert.strictEqual(m.rejectedAnswers, 10000);
    assert.strictEqual(m.delivered, 0, 'no row deleted');
    assert.strictEqual(m.accepted, 1000, 'no answer stored as a reading');
    assert.strictEqual(m.backlog, 1000);
    assert.strictEqual(r.errors.length, 0, 'no Catch flood');
    assert.strictEqual(errors.length, 0);
    assert.ok(warns.length >= 1 && warns.length <= 2, `rate-limited warnings: ${warns.length}`);
  });

  for (const badMode of ['transient', 'throw'] as const) {
    it(`a reading the cloud ${badMode === 'throw' ? 'throws on' : 'fails transiently forever'} goes to the dead letters after maxAttempts; the others are delivered`, async () => {
      await helper.load(sfNode, flow({ maxAttempts: 3, retryMinMs: 20, retryMaxMs: 60, ackTimeoutMs: 300 }));
      setMode('ok');
      helper.getNode('cloud').context().global.set('badMode', badMode);
      const r = record();
      const sf = helper.getNode('sf');
      let seq = 0;
      // a live stream: the bad reading among others, more behind it
      const timer = setInterval(() => { for (let k = 0; k < 3; k++, seq++) sf.receive(reading(seq, seq === 5 ? { bad: true } : {})); }, 20);
      try {
        await waitFor(async () => (await metricsNow(r)).deadLetters === 1, 'the bad reading dead-lettered', 15000);
      } finally {
        clearInterval(timer);
      }
      await waitFor(async () => (await metricsNow(r)).backlog === 0, 'the rest delivered');
      const unique = [...new Set(r.seqs)].sort((a, b) => a - b);
      assert.deepStrictEqual(unique, Array.from({ length: seq }, (_, i) => i).filter((s) => s !== 5));
    });
  }

  describe('on a real full disk (4 MB tmpfs)', function () {
    this.timeout(90000);
    let mnt: string | null = null;
    beforeEach(function () { mnt = mountTmpfs(this); });
    afterEach(async () => {
      await helper.unload();
      if (mnt) unmountTmpfs(mnt);
      mnt = null;
    });

    const N = 60000;
    const errorsOf = () => {
      const errors: string[] = [];
      helper.getNode('sf').on('call:error', (c: any) => errors.push(String(c.args[0])));
      return errors;
    };

    it('drop-oldest: drops the oldest to make room, counts every drop, reports the state once, and delivers what it kept', async () => {
      await helper.load(sfNode, flow({ dbPath: path.join(mnt!, 'sf.sqlite'), overflow: 'drop-oldest' }));
      const r = record();
      const errors = errorsOf();
      helper.getNode('sf').receive({ command: 'pause' });
      feed(0, N);
      const m = await waitFor(async () => { const x = await metricsNow(r); return x.accepted === N && x.drops['disk-full'] > 0 ? x : null; }, 'disk-full drops', 60000);
      assert.ok(m.backlog > 100 && m.backlog < N, `backlog ${m.backlog}`);
      assert.ok(m.diskFull, 'metrics say the disk is full');
      assert.ok(errors.some((e) => /disk full/.test(e)), 'disk full reported');
      assert.ok(errors.length <= 3, `the state change is reported, not each reading: ${errors.length} errors`);
      setMode('ok');
      helper.getNode('sf').receive({ command: 'resume' });
      await waitFor(() => r.seqs.length >= m.backlog, 'what is stored is delivered', 30000);
      assert.strictEqual(r.seqs[r.seqs.length - 1], N - 1, 'the newest message was kept');
      for (let i = 1; i < r.seqs.length; i++) assert.strictEqual(r.seqs[i], r.seqs[i - 1] + 1);
      const end = await waitFor(async () => { const x = await metricsNow(r); return x.backlog === 0 ? x : null; }, 'drained', 20000);
      assert.strictEqual(r.seqs.length + end.drops['disk-full'] + end.drops.overflow, N, 'every reading delivered or counted as dropped');
    });

    it('drop-newest: counts what does not fit without an error per reading, keeps the stored ones, says when space is back', async () => {
      await helper.load(sfNode, flow({ dbPath: path.join(mnt!, 'sf.sqlite'), overflow: 'drop-newest' }));
      const r = record();
      const errors = errorsOf();
      const logs: string[] = [];
      helper.getNode('sf').on('call:log', (c: any) => logs.push(String(c.args[0])));
      const statuses: Array<{ fill: string; text: string }> = [];
      helper.getNode('sf').on('call:status', (c: any) => statuses.push(c.args[0]));
      helper.getNode('sf').receive({ command: 'pause' });
      feed(0, N);
      const m = await waitFor(async () => { const x = await metricsNow(r); return x.accepted + x.drops['disk-full'] + x.drops.overflow >= N ? x : null; }, 'all handled', 60000);
      assert.ok(m.drops['disk-full'] > 1000 && m.backlog > 0, `drops ${m.drops['disk-full']}, backlog ${m.backlog}`);
      assert.ok(errors.length <= 3, `no error per dropped reading: ${errors.length} errors`);
      await waitFor(() => statuses.some((st) => st.fill === 'red' && st.text.includes(`disk-full ${m.drops['disk-full']}`)), 'the status shows the disk-full drops', 5000);
      assert.strictEqual(r.errors.length, 0, 'no Catch flood');
      setMode('ok');
      helper.getNode('sf').receive({ command: 'resume' });
      await waitFor(() => r.seqs.length >= m.backlog, 'stored ones delivered', 30000);
      assert.strictEqual(r.seqs[0], 0, 'the oldest are kept');
      for (let i = 1; i < r.seqs.length; i++) assert.ok(r.seqs[i] > r.seqs[i - 1], `in order at ${i}`);
      assert.strictEqual(r.seqs.length + m.drops['disk-full'] + m.drops.overflow, N, 'every message was either stored or counted as dropped');
      // once rows are deleted there is room again: the next message is stored and the state change is said once
      helper.getNode('sf').receive(reading(N));
      await waitFor(() => r.seqs.includes(N), 'stored and delivered after space came back', 20000);
      assert.ok(logs.some((l) => /disk space is back/.test(l)), logs.join(' | '));
    });
  });

  it('moves a corrupt database file aside, says where, and starts fresh', async () => {
    const file = path.join(dir, 'sf.sqlite');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    await helper.load(sfNode, []);
    await helper.unload();
    const errors: string[] = [];
    await helper.load(sfNode, flow());
    const logs = (helper as any).log().args.filter((a: any[]) => a[0].level === 20).map((a: any[]) => String(a[0].msg));
    errors.push(...logs);
    const moved = fs.readdirSync(dir).filter((f) => f.startsWith('sf.sqlite.corrupt-'));
    assert.strictEqual(moved.length, 1);
    assert.ok(errors.some((e) => e.includes(path.join(dir, moved[0]))), `error names the new place: ${errors.join(' | ')}`);
    assert.strictEqual(fs.readFileSync(path.join(dir, moved[0])).length, 8192);
    setMode('ok');
    const r = record();
    feed(0, 10);
    await waitFor(() => r.seqs.length >= 10, 'the fresh buffer works');
  });

  it('refuses two buffers on one file with a clear error at deploy', async () => {
    const f = flow();
    f.push({ id: 'sf2', z: 'tab', type: 'genix-store-forward', dbPath: path.join(dir, 'sf.sqlite'), wires: [[], []] });
    f.find((n) => n.id === 'catcher').scope = ['sf', 'sf2'];
    await helper.load(sfNode, f);
    const logs = (helper as any).log().args.filter((a: any[]) => a[0].level === 20).map((a: any[]) => String(a[0].msg));
    assert.ok(logs.some((l: string) => /already used by store-forward node/.test(l)), logs.join(' | '));
    const r = record();
    const errs = r.errors;
    const loser = helper.getNode('sf2').buffer ? 'sf' : 'sf2';
    helper.getNode(loser).receive(reading(1));
    await waitFor(() => errs.length >= 1, 'input to the refused buffer fails');
    assert.match(errs[0].error.message, /not open/);
  });

  it('puts the file under the user directory named after the node id by default', async () => {
    helper.settings({ userDir: dir });
    try {
      await helper.load(sfNode, flow({ dbPath: '' }));
      assert.ok(fs.existsSync(path.join(dir, 'genix-store-forward', 'sf.sqlite')));
    } finally {
      helper.settings({ userDir: undefined });
    }
  });
  describe('SQLite engine', () => {
    const engine = require('../../dist/nodes/lib/store-forward/engine.js');

    it('the status and the metrics name the engine in use', async () => {
      await helper.load(sfNode, flow());
      setMode('fail');
      const r = record();
      const statuses: any[] = [];
      helper.getNode('sf').on('call:status', (c: any) => statuses.push(c.args[0]));
      feed(0, 3);
      // this checkout runs better-sqlite3 on Node 20 unless a run forces another engine
      const want = process.env.GENIX_SQLITE_ENGINE || 'better-sqlite3';
      await waitFor(() => statuses.some((st) => st.text.endsWith(` · ${want}`)), `a status ending in "· ${want}"`);
      assert.strictEqual((await metricsNow(r)).engine, want);
    });

    it('with no engine loadable: a clear error and status, inputs fail via Catch, the rest of the flow keeps working', async () => {
      const restore = engine.setEngineModules({ 'better-sqlite3': 'genix-missing-better-sqlite3', 'node:sqlite': 'node:genix-missing-sqlite' });
      const saved = process.env.GENIX_SQLITE_ENGINE;
      delete process.env.GENIX_SQLITE_ENGINE;
      try {
        const f = flow({ engine: 'auto' }, [
          { id: 'other', type: 'function', func: 'msg.payload = msg.payload * 2;\nreturn msg;', outputs: 1, wires: [['otherOut']] },
          { id: 'otherOut', type: 'helper' },
        ]);
        await helper.load(sfNode, f);
        const sf = helper.getNode('sf');
        assert.strictEqual(sf.buffer, undefined);
        const logs = (helper as any).log().args.filter((a: any[]) => a[0].level === 20).map((a: any[]) => String(a[0].msg));
        assert.ok(logs.some((l: string) => l.startsWith('store-forward: no SQLite engine: install better-sqlite3 (needs a compiler or a prebuilt binary) or run Node.js >= 22.13')), logs.join(' | '));
        // the helper records every status call (a sinon spy): the one made while the node was constructed
        const st = sf.status.getCalls().filter((c: any) => c.thisValue === sf).map((c: any) => c.args[0]);
        assert.deepStrictEqual(st[st.length - 1], { fill: 'red', shape: 'ring', text: 'genix-store-forward.status.noEngine' });
        const r = record();
        sf.receive(reading(1));
        await waitFor(() => r.errors.length >= 1, 'the input fails with an error a Catch node sees');
        assert.match(r.errors[0].error.message, /buffer is not open .*: no SQLite engine: install better-sqlite3/);
        const got: any[] = [];
        helper.getNode('otherOut').on('input', (msg: any) => got.push(msg.payload));
        helper.getNode('other').receive({ payload: 21 });
        await waitFor(() => got.length === 1, 'the other node still works');
        assert.strictEqual(got[0], 42);
      } finally {
        restore();
        if (saved !== undefined) process.env.GENIX_SQLITE_ENGINE = saved;
      }
    });
  });
});
