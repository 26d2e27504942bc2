// Google Cloud Pub/Sub delivery against the real emulator: what is published is pulled back through a
// subscription (count, content, attributes, ordering keys), and refusals are classified as Pub/Sub states them.
import assert from 'assert';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PubsubSender, parseServiceAccount, attributesOf } from '../../nodes/lib/cloud/pubsub-sender';
import { CloudPublisher } from '../../nodes/lib/cloud/publisher';
import { compileTopic } from '../../nodes/lib/cloud/topic';
import { classifyGrpcError, SendResult } from '../../nodes/lib/cloud/errors';
import { PubsubEmulator, adminClient, emulatorFor, subscribe, PROJECT } from '../helpers/pubsub-emulator';
import { waitFor } from '../helpers/wait';

const reading = (sensorId: string, value: number, extra: Record<string, unknown> = {}) =>
  ({ sensorId, value, ts: 1686000000000 + value, quality: 'good', measurement: 'temperature', plantId: 'p1', lineId: 'l1', ...extra });

function answer(): { promise: Promise<SendResult>; cb: (r: SendResult) => void } {
  let cb!: (r: SendResult) => void;
  const promise = new Promise<SendResult>((resolve) => { cb = resolve; });
  return { promise, cb };
}

describe('Pub/Sub: gRPC status → delivery result', function () {
  it('INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED are permanent; UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, ABORTED are retried', function () {
    for (const code of [3, 5, 7, 16]) assert.strictEqual(classifyGrpcError({ code, details: 'x' }).permanent, true, `code ${code}`);
    for (const code of [14, 4, 8, 13, 10]) {
      const r = classifyGrpcError({ code, details: 'x' });
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.permanent, undefined, `code ${code}`);
    }
    assert.match(classifyGrpcError({ code: 5, details: 'Topic not found' }).error as string, /^NOT_FOUND: Topic not found/);
    assert.strictEqual(classifyGrpcError(new Error('socket hang up')).permanent, undefined, 'no code: retried');
  });

  it('a bad service-account key is refused without echoing any of it', function () {
    const secret = '-----BEGIN PRIVATE KEY-----SECRETSECRET';
    for (const text of [`{"private_key": "${secret}"`, `{"private_key": "${secret}"}`]) {
      assert.throws(() => parseServiceAccount(text), (e: Error) => !e.message.includes('SECRET') && /service-account key/.test(e.message));
    }
  });

  it('attributes are the named scalar fields, as text; absent and object fields are left out', function () {
    assert.deepStrictEqual(attributesOf({ sensorId: 'T-1', value: 3, tags: { a: 'b' }, quality: 'bad' }, ['sensorId', 'value', 'tags', 'quality', 'lineId']), { sensorId: 'T-1', value: '3', quality: 'bad' });
    assert.strictEqual(attributesOf({ sensorId: 'T-1' }, []), undefined);
  });

  it('without @google-cloud/pubsub installed, the endpoint says what to install', function () {
    // the built module copied where no node_modules can be found: the lazy require fails as on a palette install
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-nopubsub-'));
    const src = path.join(__dirname, '../../dist/nodes/lib');
    fs.cpSync(src, path.join(dir, 'lib'), { recursive: true });
    const out = execFileSync(process.execPath, ['-e', `
      const { PubsubSender } = require(${JSON.stringify(path.join(dir, 'lib/cloud/pubsub-sender.js'))});
      try { new PubsubSender({ projectId: 'p' }); console.log('constructed'); } catch (e) { console.log(e.message); }
    `], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.match(out, /npm install @google-cloud\/pubsub/);
  });
});

describe('Pub/Sub against the emulator', function () {
  this.timeout(120000);
  let emu: PubsubEmulator;
  const senders: PubsubSender[] = [];
  const subs: Array<{ close(): Promise<void> }> = [];

  before(async function () {
    emu = await emulatorFor(this);
  });
  after(async function () {
    for (const s of senders) await s.stop();
    for (const s of subs) await s.close().catch(() => undefined);
    if (emu) await emu.stop();
  });

  const sender = (o: Partial<ConstructorParameters<typeof PubsubSender>[0]> = {}) => {
    const s = new PubsubSender({ projectId: PROJECT, apiEndpoint: emu.host, attributes: ['sensorId', 'measurement', 'quality', 'plantId'], ...o });
    senders.push(s);
    return s;
  };

  it('publishes single readings and replay batches: each reading one message, pulled back with its content, attributes and id', async function () {
    const admin = adminClient(emu.host);
    const sub = await subscribe(admin, 'sensor-data', 'sensor-data-test');
    subs.push(sub);
    const s = sender();
    const pub = new CloudPublisher(s, { topic: compileTopic('sensor-data'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 131072 });
    const results: SendResult[] = [];
    const pending: Array<Promise<SendResult>> = [];
    for (let i = 0; i < 50; i++) {
      const a = answer();
      assert.strictEqual(pub.submit(reading(`T-${i % 3}`, i), `T-${i % 3}`, a.cb), null);
      pending.push(a.promise);
    }
    // a replay batch from the store-and-forward buffer: one input, 100 readings
    const batch = Array.from({ length: 100 }, (_, k) => reading('P-1', 50 + k));
    const a = answer();
    assert.strictEqual(pub.submit(batch, 'ignored', a.cb), null);
    pending.push(a.promise);
    results.push(...(await Promise.all(pending)));
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
    assert.strictEqual(results[0].ids?.length, 1);
    assert.strictEqual(results[50].ids?.length, 100, 'the batch answers with one id per reading');
    await waitFor(() => sub.received.length >= 150, '150 messages at the subscription', 30000);
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(sub.received.length, 150, 'no duplicates');
    const values = sub.received.map((m) => JSON.parse(m.data).value).sort((x, y) => x - y);
    assert.deepStrictEqual(values, Array.from({ length: 150 }, (_, i) => i));
    const m7 = sub.received.find((m) => JSON.parse(m.data).value === 7) as { data: string; attributes: Record<string, string>; id: string };
    assert.deepStrictEqual(JSON.parse(m7.data), reading('T-1', 7));
    assert.deepStrictEqual(m7.attributes, { sensorId: 'T-1', measurement: 'temperature', quality: 'good', plantId: 'p1' });
    const ids = new Set(results.flatMap((r) => r.ids ?? []));
    assert.strictEqual(ids.size, 150);
    assert.ok(sub.received.every((m) => ids.has(m.id)), 'the ids in the delivery answers are the ids Pub/Sub delivered');
    assert.strictEqual(s.state, 'connected');
    pub.close();
  });

  it('topic template names the topic: readings to sensor-data, alarms to anomalies', async function () {
    const admin = adminClient(emu.host);
    const alarms = await subscribe(admin, 'anomalies', 'anomalies-test');
    subs.push(alarms);
    const s = sender({ defaultTopic: 'anomalies', attributes: ['sensorId', 'kind', 'state', 'severity'] });
    // no template: the endpoint's default topic, never msg.topic (the sensor id)
    const pub = new CloudPublisher(s, { topic: null, qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 131072 });
    const a = answer();
    pub.submit({ sensorId: 'T-9', kind: 'hi', state: 'active', severity: 'warning', value: 99, limit: 90, ts: 1, message: 'high' }, 'T-9', a.cb);
    assert.strictEqual((await a.promise).ok, true);
    await waitFor(() => alarms.received.length === 1, 'the alarm at anomalies', 30000);
    assert.deepStrictEqual(alarms.received[0].attributes, { sensorId: 'T-9', kind: 'hi', state: 'active', severity: 'warning' });
  });

  it('ordering key per sensor: each sensor\'s readings arrive in publish order with their key', async function () {
    const admin = adminClient(emu.host);
    const sub = await subscribe(admin, 'ordered', 'ordered-test', true);
    subs.push(sub);
    const s = sender({ orderingKey: '{sensorId}' });
    const pub = new CloudPublisher(s, { topic: compileTopic('ordered'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 131072 });
    const pending: Array<Promise<SendResult>> = [];
    for (let i = 0; i < 300; i++) {
      const a = answer();
      pub.submit(reading(`S-${i % 4}`, i), '', a.cb);
      pending.push(a.promise);
    }
    assert.ok((await Promise.all(pending)).every((r) => r.ok));
    await waitFor(() => sub.received.length >= 300, '300 ordered messages', 30000);
    for (let k = 0; k < 4; k++) {
      const mine = sub.received.filter((m) => m.orderingKey === `S-${k}`).map((m) => JSON.parse(m.data));
      assert.strictEqual(mine.length, 75);
      assert.ok(mine.every((r) => r.sensorId === `S-${k}`));
      assert.deepStrictEqual(mine.map((r) => r.value), Array.from({ length: 75 }, (_, j) => k + 4 * j), `S-${k} in order`);
    }
  });

  it('a topic that does not exist is a permanent failure (NOT_FOUND); the sender stays usable', async function () {
    const s = sender({ orderingKey: '{sensorId}' });
    const a = answer();
    s.send('no-such-topic', JSON.stringify(reading('T-1', 1)), 1, a.cb);
    const r = await a.promise;
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.permanent, true);
    assert.match(r.error as string, /NOT_FOUND/);
    // the key paused by the failure was resumed: the same key publishes to a topic that exists
    const admin = adminClient(emu.host);
    const sub = await subscribe(admin, 'after-failure', 'after-failure-test');
    subs.push(sub);
    const b = answer();
    s.send('after-failure', JSON.stringify(reading('T-1', 2)), 1, b.cb);
    assert.strictEqual((await b.promise).ok, true);
    const c = answer();
    s.send('no-such-topic', JSON.stringify(reading('T-1', 3)), 1, c.cb);
    assert.strictEqual((await c.promise).permanent, true, 'the same key fails again for the same reason, not as paused');
  });

  it('invalid topic names, oversized and empty messages are refused for good', async function () {
    const s = sender();
    const a = answer();
    s.send('1bad', '{"sensorId":"x"}', 1, a.cb);
    const r = await a.promise;
    assert.strictEqual(r.permanent, true);
    assert.match(r.error as string, /not a Pub\/Sub topic name/);
    const b = answer();
    s.send('sensor-data', 'x'.repeat(10 * 1000 * 1000 + 1), 1, b.cb);
    const big = await b.promise;
    assert.strictEqual(big.permanent, true);
    assert.match(big.error as string, /10 MB/);
    // nothing to publish: Pub/Sub refuses a message with neither data nor attributes
    const topicExists = await adminClient(emu.host).topic('sensor-data').exists();
    assert.ok(topicExists[0]);
    const c = answer();
    s.send('sensor-data', '', 1, c.cb);
    const empty = await c.promise;
    assert.strictEqual(empty.ok, false);
    assert.strictEqual(empty.permanent, true, empty.error);
  });
});
