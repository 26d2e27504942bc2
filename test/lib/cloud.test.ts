import assert from 'assert';
import mqtt from 'mqtt';
import { compileTopic, validateTemplate } from '../../nodes/lib/cloud/topic';
import { classifyHttpStatus, parseRetryAfter, classifyMqttError, redact, SendResult } from '../../nodes/lib/cloud/errors';
import { MqttConnection } from '../../nodes/lib/cloud/mqtt-connection';
import { HttpSender } from '../../nodes/lib/cloud/http-sender';
import { CloudPublisher } from '../../nodes/lib/cloud/publisher';
import { startAedesBroker, AedesBroker } from '../../scripts/plant/aedes-broker';
import { startIngest, IngestServer } from '../helpers/http-ingest';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/wait';
import { startMosquitto, mosquittoPath, TestBroker } from '../helpers/brokers';
import { describeIf } from '../helpers/prereq';

const reading = (i: number, extra: object = {}) => ({ sensorId: `TEMP-${i % 3}`, value: i, ts: 1686000000000 + i, quality: 'good', plantId: 'p1', lineId: 'l1', ...extra });

function submitAll(pub: CloudPublisher, payloads: unknown[]): { results: SendResult[]; all: Promise<SendResult[]> } {
  const results: SendResult[] = [];
  const all = Promise.all(payloads.map((p, i) => new Promise<SendResult>((resolve, reject) => {
    let calls = 0;
    const bad = pub.submit(p, undefined, (r) => {
      if (++calls > 1) reject(new Error(`input ${i} answered twice`));
      results[i] = r;
      resolve(r);
    });
    if (bad) reject(new Error(bad));
  })));
  return { results, all };
}

describe('cloud lib: topic template', function () {
  it('fills sensorId, plantId, lineId, measurement and marks missing fields', function () {
    const t = compileTopic('plants/{plantId}/{lineId}/{sensorId}/{measurement}');
    assert.strictEqual(t({ sensorId: 'T-1', plantId: 'p', lineId: 'l', measurement: 'temperature' }), 'plants/p/l/T-1/temperature');
    assert.strictEqual(t({ sensorId: 'T-1' }), 'plants/unknown/unknown/T-1/unknown');
    assert.strictEqual(compileTopic('x/{sensorId}')({ sensorId: 'a+b#c' }), 'x/a_b_c');
    assert.strictEqual(compileTopic('fixed/topic')({ sensorId: 'a' }), 'fixed/topic');
  });
  it('rejects unknown placeholders and wildcards at deploy time', function () {
    assert.throws(() => compileTopic('a/{sensor}'), /unknown placeholder \{sensor\}/);
    assert.match(validateTemplate('a/+/b') as string, /wildcards/);
    assert.strictEqual(validateTemplate('a/{sensorId}'), null);
  });
});

describe('cloud lib: error classification', function () {
  it('parses Retry-After as seconds or HTTP date', function () {
    assert.strictEqual(parseRetryAfter('3'), 3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.strictEqual(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.strictEqual(parseRetryAfter('soon'), undefined);
  });
  it('2xx ok; 408, 429, 5xx transient; other 4xx permanent', function () {
    assert.strictEqual(classifyHttpStatus(204).ok, true);
    for (const s of [408, 429, 500, 502, 503]) assert.ok(!classifyHttpStatus(s).permanent && !classifyHttpStatus(s).ok, String(s));
    for (const s of [400, 401, 403, 404, 413, 422]) assert.strictEqual(classifyHttpStatus(s).permanent, true, String(s));
    assert.strictEqual(classifyHttpStatus(503, '7').retryAfterMs, 7000);
    assert.strictEqual(classifyMqttError(Object.assign(new Error('Not authorized'), { code: 0x87 })).permanent, true);
    assert.ok(!classifyMqttError(Object.assign(new Error('Quota exceeded'), { code: 0x97 })).permanent);
    assert.strictEqual(redact('bad s3cret here', ['s3cret']), 'bad *** here');
  });
});

describe('cloud lib: MQTT connection + publisher (aedes)', function () {
  let broker: AedesBroker;
  let conn: MqttConnection;
  let sub: mqtt.MqttClient;
  const got: Array<{ topic: string; payload: string }> = [];
  beforeEach(async function () {
    got.length = 0;
    broker = await startAedesBroker(await freePort());
    sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await sub.subscribeAsync('#', { qos: 1 });
    sub.on('message', (topic, p) => got.push({ topic, payload: p.toString() }));
    conn = new MqttConnection({ url: broker.url, clientId: 'lib-test', reconnectMinMs: 50, reconnectMaxMs: 200 });
    conn.start();
    await waitFor(() => conn.state === 'connected', 'connected');
  });
  afterEach(async function () {
    await conn.stop();
    await sub.endAsync(true);
    await broker.close();
  });

  it('a single reading goes out as its JSON object on the templated topic, ok after PUBACK', async function () {
    const pub = new CloudPublisher(conn, { topic: compileTopic('plants/{plantId}/{sensorId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const { all } = submitAll(pub, [reading(1)]);
    assert.deepStrictEqual(await all, [{ ok: true }]);
    await waitFor(() => got.length === 1, 'subscriber');
    assert.strictEqual(got[0].topic, 'plants/p1/TEMP-1');
    assert.deepStrictEqual(JSON.parse(got[0].payload), reading(1));
  });

  it('batches across messages per topic, answers each input once', async function () {
    const pub = new CloudPublisher(conn, { topic: compileTopic('t/{sensorId}'), qos: 1, batchMaxMessages: 4, batchMaxMs: 30, batchMaxBytes: 0 });
    const { all } = submitAll(pub, Array.from({ length: 9 }, (_, i) => reading(i)));
    const res = await all;
    assert.ok(res.every((r) => r.ok));
    await waitFor(() => got.reduce((n, g) => n + JSON.parse(g.payload).length, 0) === 9, 'all 9 readings');
    for (const g of got) {
      const arr = JSON.parse(g.payload);
      assert.ok(Array.isArray(arr) && arr.length <= 4);
      assert.ok(arr.every((r: any) => `t/${r.sensorId}` === g.topic), 'grouped by topic');
    }
    assert.strictEqual(got.length, 3, 'three topics, three readings each, one batch per topic');
  });

  it('merges small array inputs into the per-topic batches; each input answered once, after all its batches', async function () {
    const held: Array<() => void> = [];
    const r = (i: number, s: string) => reading(i, { sensorId: s });
    const pub = new CloudPublisher(conn, { topic: compileTopic('t/{sensorId}'), qos: 1, batchMaxMessages: 5, batchMaxMs: 40, batchMaxBytes: 0 });
    // hold back PUBACKs for topic t/B so the first input cannot be answered before its B batch is acknowledged
    broker.aedes.authorizePublish = (_c: unknown, p: any, cb: (e: Error | null) => void) => { if (p.topic === 't/B') held.push(() => cb(null)); else cb(null); };
    const { results, all } = submitAll(pub, [[r(1, 'A'), r(2, 'B')], [r(3, 'A')], r(4, 'A'), [r(5, 'A'), r(6, 'A')]]);
    await waitFor(() => results[1] !== undefined && results[2] !== undefined && results[3] !== undefined, 'inputs carried only by the full A batch');
    assert.ok(results.slice(1).every((x) => x.ok));
    assert.strictEqual(results[0], undefined, 'input 1 waits for its B batch');
    await waitFor(() => held.length === 1, 'the B batch sent after batchMaxMs');
    held[0]();
    assert.deepStrictEqual(await all, [{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    await waitFor(() => got.length === 2, 'two batches');
    const byTopic = Object.fromEntries(got.map((g) => [g.topic, JSON.parse(g.payload).map((x: any) => x.value)]));
    assert.deepStrictEqual(byTopic, { 't/A': [1, 3, 4, 5, 6], 't/B': [2] });
    assert.strictEqual(pub.readingsDelivered, 6);
  });

  it('a merged array input with a reading over the byte limit is refused for good once; the rest is delivered', async function () {
    const pub = new CloudPublisher(conn, { topic: compileTopic('t'), qos: 1, batchMaxMessages: 10, batchMaxMs: 10, batchMaxBytes: 300 });
    const big = reading(9, { tags: { note: 'x'.repeat(400) } });
    const [a] = await submitAll(pub, [[reading(1), big, reading(2)]]).all;
    assert.strictEqual(a.ok, false);
    assert.strictEqual(a.permanent, true);
    await waitFor(() => got.length === 1, 'the deliverable part');
    assert.deepStrictEqual(JSON.parse(got[0].payload).map((x: any) => x.value), [1, 2]);
  });

  it('splits a replay batch by the byte limit and reports ok only when all parts are acknowledged', async function () {
    const pub = new CloudPublisher(conn, { topic: compileTopic('t/{plantId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 1000 });
    const batch = Array.from({ length: 100 }, (_, i) => reading(i));
    const { all } = submitAll(pub, [batch]);
    assert.deepStrictEqual(await all, [{ ok: true }]);
    await waitFor(() => got.reduce((n, g) => n + JSON.parse(g.payload).length, 0) === 100, '100 readings');
    assert.ok(got.length > 5, `split into ${got.length} parts`);
    for (const g of got) assert.ok(Buffer.byteLength(g.payload) <= 1000, `part of ${Buffer.byteLength(g.payload)} bytes`);
    assert.deepStrictEqual(got.flatMap((g) => JSON.parse(g.payload)).map((r: any) => r.value), batch.map((r) => r.value), 'order kept');
  });

  it('a reading larger than the byte limit is refused for good; its neighbours are delivered', async function () {
    const pub = new CloudPublisher(conn, { topic: compileTopic('t'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 300 });
    const big = reading(1, { tags: { note: 'x'.repeat(400) } });
    const { all } = submitAll(pub, [big, [reading(2), big, reading(3)]]);
    const [a, b] = await all;
    assert.strictEqual(a.ok, false);
    assert.strictEqual(a.permanent, true);
    assert.strictEqual(b.ok, false);
    assert.strictEqual(b.permanent, true);
    await waitFor(() => got.length >= 1, 'the deliverable part');
    assert.deepStrictEqual(JSON.parse(got[0].payload).map((r: any) => r.value), [2, 3]);
  });

  it('answers ok:false at once while disconnected, and every unacknowledged publish exactly once when the link drops', async function () {
    const held: Array<() => void> = [];
    // withhold PUBACKs: the broker accepts the publishes but never acknowledges them
    broker.aedes.authorizePublish = (_c: unknown, _p: unknown, cb: (e: Error | null) => void) => { held.push(() => cb(null)); };
    const pub = new CloudPublisher(conn, { topic: compileTopic('t/{sensorId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const answers: SendResult[][] = Array.from({ length: 50 }, () => []);
    for (let i = 0; i < 50; i++) pub.submit(reading(i), undefined, (r) => answers[i].push(r));
    await waitFor(() => held.length === 50, 'broker holding 50 publishes');
    assert.strictEqual(conn.inFlight, 50);
    assert.ok(answers.every((a) => a.length === 0), 'nothing answered without PUBACK');
    await broker.close();
    await waitFor(() => answers.every((a) => a.length === 1), 'all 50 answered');
    assert.ok(answers.every((a) => a[0].ok === false && /connection lost/.test(a[0].error as string)));
    const late: SendResult[] = [];
    pub.submit(reading(99), undefined, (r) => late.push(r));
    assert.strictEqual(late.length, 1, 'answered synchronously while disconnected');
    assert.strictEqual(late[0].ok, false);
    // the broker comes back: nothing of the old in-flight set is resent or answered twice
    broker = await startAedesBroker(broker.port);
    const seen: string[] = [];
    broker.aedes.on('publish', (p: any) => { if (p.topic.startsWith('t/')) seen.push(p.topic); });
    await waitFor(() => conn.state === 'connected', 'reconnected', 5000);
    const { all } = submitAll(pub, [reading(7)]);
    assert.deepStrictEqual(await all, [{ ok: true }]);
    assert.deepStrictEqual(seen, ['t/TEMP-1']);
    assert.ok(answers.every((a) => a.length === 1), 'no second answer');

    // a second outage: the no-resend rule must survive the reconnect too (mqtt.js forgets its stores there)
    const held2: Array<() => void> = [];
    broker.aedes.authorizePublish = (_c: unknown, p: any, cb: (e: Error | null) => void) => { if (p.topic.startsWith('t/')) held2.push(() => cb(null)); else cb(null); };
    const answers2: SendResult[][] = Array.from({ length: 20 }, () => []);
    for (let i = 0; i < 20; i++) pub.submit(reading(100 + i), undefined, (r) => answers2[i].push(r));
    await waitFor(() => held2.length === 20, 'broker holding 20 publishes');
    await broker.close();
    await waitFor(() => answers2.every((a) => a.length === 1), 'all 20 answered');
    assert.ok(answers2.every((a) => a[0].ok === false));
    broker = await startAedesBroker(broker.port);
    const seen2: number[] = [];
    broker.aedes.on('publish', (p: any) => { if (p.topic.startsWith('t/')) seen2.push(JSON.parse(p.payload.toString()).value); });
    await waitFor(() => conn.state === 'connected', 'reconnected again', 5000);
    const second = submitAll(pub, [reading(8)]);
    assert.deepStrictEqual(await second.all, [{ ok: true }]);
    assert.deepStrictEqual(seen2, [8], 'nothing answered ok:false was sent again behind the flow');
    assert.ok(answers2.every((a) => a.length === 1), 'no second answer');
  });
});

describeIf(mosquittoPath(), 'Mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')('cloud lib: MQTT 3.1.1 and 5 wire format (Mosquitto)', function () {
  let broker: TestBroker;
  before(async function () { broker = (await startMosquitto()) as TestBroker; });
  after(async function () { await broker.stop(); });

  it('MQTT 5: keeps no more publishes in flight than the broker\'s Receive Maximum; what waits merges per topic, in order, each input answered once', async function () {
    const small = (await startMosquitto(undefined, 'max_inflight_messages 5\n')) as TestBroker;
    const sub = await mqtt.connectAsync(small.url, { reconnectPeriod: 0 });
    const got: Array<{ topic: string; payload: string }> = [];
    sub.on('message', (topic, p) => got.push({ topic, payload: p.toString() }));
    await sub.subscribeAsync('rm/#', { qos: 1 });
    const conn = new MqttConnection({ url: small.url, clientId: 'rm-5', protocolVersion: 5, maxInFlight: 2000 });
    try {
      conn.start();
      await waitFor(() => conn.state === 'connected', 'connected');
      assert.strictEqual(conn.limits.receiveMaximum, 5);
      const pub = new CloudPublisher(conn, { topic: compileTopic('rm/{sensorId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0, mergeWhenBusy: true });
      let most = 0;
      let publishes = 0;
      conn.client!.on('packetsend', (p: any) => {
        if (p.cmd !== 'publish') return;
        publishes++;
        most = Math.max(most, conn.inFlight);
      });
      const states: string[] = [];
      conn.on('state', (st: string) => states.push(st));
      const res = await submitAll(pub, Array.from({ length: 200 }, (_, i) => reading(i))).all;
      assert.ok(res.every((r) => r.ok), JSON.stringify(res.find((r) => !r.ok)));
      assert.ok(most <= 5, `${most} in flight`);
      assert.ok(publishes < 100, `${publishes} publishes for 200 readings: waiting readings merged`);
      assert.deepStrictEqual(states, [], 'never disconnected');
      await waitFor(() => got.reduce((n, g) => n + (g.payload.startsWith('[') ? JSON.parse(g.payload).length : 1), 0) === 200, 'all 200 readings');
      for (const t of ['rm/TEMP-0', 'rm/TEMP-1', 'rm/TEMP-2']) {
        const values = got.filter((g) => g.topic === t).flatMap((g) => [].concat(JSON.parse(g.payload))).map((r: any) => r.value);
        assert.deepStrictEqual(values, [...values].sort((x, y) => x - y), `${t} in order`);
        assert.ok(values.every((v) => `rm/TEMP-${v % 3}` === t));
      }
      // merging off: one publish per reading, each its JSON object
      const plain = new CloudPublisher(conn, { topic: compileTopic('rm/{sensorId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0, mergeWhenBusy: false });
      const before = publishes;
      got.length = 0;
      assert.ok((await submitAll(plain, Array.from({ length: 50 }, (_, i) => reading(i))).all).every((r) => r.ok));
      assert.strictEqual(publishes - before, 50);
      await waitFor(() => got.length === 50, '50 messages');
      assert.ok(got.every((g) => !g.payload.startsWith('[')));
    } finally {
      await conn.stop();
      await sub.endAsync(true);
      await small.stop();
    }
  });

  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 5 ? '5' : '3.1.1'}: QoS 1 and 0 bodies of every length class arrive intact on their topics`, async function () {
      const sub = await mqtt.connectAsync(broker!.url, { reconnectPeriod: 0, protocolVersion: v });
      const got: Array<{ topic: string; payload: string }> = [];
      sub.on('message', (topic, p) => got.push({ topic, payload: p.toString() }));
      await sub.subscribeAsync(`v${v}/#`, { qos: 1 });
      const conn = new MqttConnection({ url: broker!.url, clientId: `wire-${v}`, protocolVersion: v });
      try {
        conn.start();
        await waitFor(() => conn.state === 'connected', 'connected');
        const pub1 = new CloudPublisher(conn, { topic: compileTopic(`v${v}/{sensorId}/ü`), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
        const pub0 = new CloudPublisher(conn, { topic: compileTopic(`v${v}/q0`), qos: 0, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
        // remaining lengths of 1, 2, 3 and 4 bytes; a non-ASCII topic and body
        const sizes = [0, 200, 20000, 2200000];
        const inputs: unknown[] = sizes.map((n, i) => reading(i, { note: 'é'.repeat(n / 2) }));
        inputs.push(Array.from({ length: 300 }, (_, i) => reading(1000 + i, { sensorId: 'B' })));
        const res = await submitAll(pub1, inputs).all;
        assert.ok(res.every((r) => r.ok), JSON.stringify(res));
        assert.deepStrictEqual(await submitAll(pub0, [reading(5)]).all, [{ ok: true }]);
        await waitFor(() => got.length === inputs.length + 1, 'every message at the subscriber', 10000).catch((e) => { throw new Error(`${e.message}: got ${got.map((g) => g.payload.length)}`); });
        const want = inputs.map((x) => JSON.stringify(x)).concat(JSON.stringify(reading(5))).sort();
        assert.deepStrictEqual(got.map((g) => g.payload).sort(), want);
        assert.ok(got.some((g) => g.topic === `v${v}/TEMP-0/ü`), 'templated UTF-8 topic');
      } finally {
        await conn.stop();
        await sub.endAsync(true);
      }
    });
  }
});

describe('cloud lib: HTTP sender + publisher', function () {
  let ingest: IngestServer;
  beforeEach(async function () { ingest = await startIngest(); });
  afterEach(async function () { await ingest.close(); });

  it('POSTs a JSON array with bearer token; NDJSON + gzip with an API-key header', async function () {
    const a = new HttpSender({ url: ingest.url, token: 'tok-123' });
    const pubA = new CloudPublisher(a, { topic: null, qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const bad = pubA.submit([reading(1), reading(2)], 'x', () => undefined);
    assert.strictEqual(bad, null);
    await waitFor(() => ingest.requests.length === 1, 'request');
    assert.strictEqual(ingest.requests[0].headers.authorization, 'Bearer tok-123');
    assert.deepStrictEqual(JSON.parse(ingest.requests[0].raw), [reading(1), reading(2)]);
    const b = new HttpSender({ url: ingest.url, token: 'k-9', apiKeyHeader: 'X-Api-Key', framing: 'ndjson', gzip: true });
    const pubB = new CloudPublisher(b, { topic: null, qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const { all } = submitAll(pubB, [[reading(3), reading(4)]]);
    pubB.submit(reading(5), 'x', () => undefined);
    assert.deepStrictEqual(await all, [{ ok: true }]);
    await waitFor(() => ingest.requests.length === 3, 'requests');
    // the two requests of pubB run in parallel: take the one that carried the batch
    const r = ingest.requests.slice(1).find((q) => q.readings.length === 2) ?? ingest.requests[1];
    assert.strictEqual(r.headers['x-api-key'], 'k-9');
    assert.strictEqual(r.headers['content-encoding'], 'gzip');
    assert.strictEqual(r.headers.authorization, undefined);
    assert.deepStrictEqual(r.readings, [reading(3), reading(4)]);
    await a.stop();
    await b.stop();
  });

  it('classifies 503 + Retry-After as transient, 400 as permanent, 429 transient, timeouts transient', async function () {
    const s = new HttpSender({ url: ingest.url, timeoutMs: 200 });
    const pub = new CloudPublisher(s, { topic: null, qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const one = (p: unknown) => new Promise<SendResult>((resolve) => pub.submit(p, 'x', resolve));
    ingest.script.push({ status: 400 });
    assert.deepStrictEqual(await one(reading(1)), { ok: false, error: 'HTTP 400', permanent: true });
    ingest.script.push({ status: 429 });
    const r429 = await one(reading(2));
    assert.strictEqual(r429.ok, false);
    assert.ok(!r429.permanent);
    ingest.script.push({ status: 503, headers: { 'retry-after': '1' } });
    assert.deepStrictEqual(await one(reading(3)), { ok: false, error: 'HTTP 503', retryAfterMs: 1000 });
    // inside the Retry-After window the first send probes, a concurrent one is refused at once
    ingest.script.push({ status: 503, headers: { 'retry-after': '1' } });
    const probe = one(reading(4));
    const refused = await one(reading(5));
    assert.strictEqual(refused.ok, false);
    assert.ok((refused.retryAfterMs as number) > 0 && (refused.retryAfterMs as number) <= 1000);
    assert.strictEqual((await probe).ok, false);
    await waitFor(() => Date.now() > 0 && (s as any).blockedUntil < Date.now(), 'Retry-After window over', 3000);
    ingest.script.push({ status: 200, delayMs: 1000 });
    const slow = await one(reading(6));
    assert.strictEqual(slow.ok, false);
    assert.ok(!slow.permanent);
    assert.match(slow.error as string, /no response within 200 ms/);
    await s.stop();
  });

  it('answers at once while the server is unreachable, then recovers', async function () {
    const port = ingest.port;
    await ingest.close();
    const s = new HttpSender({ url: `http://127.0.0.1:${port}/ingest`, timeoutMs: 500 });
    const pub = new CloudPublisher(s, { topic: null, qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0 });
    const one = (p: unknown) => new Promise<SendResult>((resolve) => pub.submit(p, 'x', resolve));
    const first = await one(reading(1));
    assert.strictEqual(first.ok, false);
    assert.match(first.error as string, /ECONNREFUSED/);
    assert.strictEqual(s.state, 'disconnected');
    const t0 = Date.now();
    const second = await one(reading(2));
    assert.strictEqual(second.ok, false);
    assert.ok(Date.now() - t0 < 1000, 'refused without waiting for a timeout');
    await s.stop();
  });
});
