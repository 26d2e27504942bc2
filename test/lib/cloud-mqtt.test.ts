// The cloud MQTT connection against a real Mosquitto: what the broker states in CONNACK, MQTT 5 reason codes.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
import { MqttConnection } from '../../nodes/lib/cloud/mqtt-connection';
import { compileTopic } from '../../nodes/lib/cloud/topic';
import { classifyMqttError, SendResult } from '../../nodes/lib/cloud/errors';
import { startMosquitto, TestBroker } from '../helpers/brokers';
import { waitFor } from '../helpers/wait';
import { reading, needMosquitto, submitAll, subscriber, opened, connection, publisher } from './cloud-mqtt-helpers';

describe('cloud MQTT: public mqtt.js API only', function () {
  it('no code in nodes/ reaches into mqtt.js internals (message ids, outgoing table, socket writes)', function () {
    const root = path.resolve(__dirname, '..', '..', 'nodes');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (/\.(ts|html)$/.test(e.name)) files.push(path.join(d, e.name));
      }
    };
    walk(root);
    assert.ok(files.length > 10, 'found the sources');
    const forbidden = [/messageIdProvider/, /\.outgoing\b/, /\bclient\.stream\b/, /\.stream\.(write|cork|uncork)\b/, /_storeProcessing/, /_sendPacket|_writePacket/];
    const hits = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => forbidden.some((re) => re.test(line)))
      .map(({ f, i, line }) => `${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
    assert.deepStrictEqual(hits, []);
  });

  it('MQTT 5 reason codes: not authorized, topic name invalid, packet too large, payload format invalid are permanent; the rest retry', function () {
    const err = (code: number) => Object.assign(new Error('Publish error'), { code });
    for (const c of [0x87, 0x90, 0x95, 0x99]) assert.strictEqual(classifyMqttError(err(c)).permanent, true, `0x${c.toString(16)}`);
    for (const c of [0x80, 0x83, 0x89, 0x91, 0x96, 0x97, 0x9b]) assert.ok(!classifyMqttError(err(c)).permanent, `0x${c.toString(16)}`);
    assert.match(classifyMqttError(err(0x87)).error as string, /reason code 0x87/);
  });
});

describe('cloud MQTT against Mosquitto: CONNACK limits and reason codes (MQTT 5)', function () {
  const brokers: TestBroker[] = [];
  const subs: mqtt.MqttClient[] = [];
  before(function () { needMosquitto(this); });
  afterEach(async function () {
    while (opened.length) await (opened.pop() as MqttConnection).stop();
    while (subs.length) await (subs.pop() as mqtt.MqttClient).endAsync(true);
    while (brokers.length) await (brokers.pop() as TestBroker).stop();
  });
  async function broker(conf: string): Promise<TestBroker> {
    const b = (await startMosquitto(undefined, conf)) as TestBroker;
    brokers.push(b);
    return b;
  }

  it('maximum packet size: a batch over it is split into packets the broker takes; a single reading over it is permanent', async function () {
    const b = await broker('max_packet_size 700\n');
    const sub = await subscriber(b.url, 't/#');
    subs.push(sub.c);
    const conn = connection({ url: b.url, protocolVersion: 5 });
    await waitFor(() => conn.state === 'connected', 'connected');
    assert.strictEqual(conn.limits.maxPacketSize, 700, 'read from CONNACK');
    const states: string[] = [];
    conn.on('state', (s: string) => states.push(s));
    // batchMaxBytes far above the broker's limit: the broker's limit decides
    const pub = publisher(conn, { topic: compileTopic('t/{plantId}'), batchMaxBytes: 131072 });
    const sent: number[] = [];
    conn.client!.on('packetsend', (p: any) => { if (p.cmd === 'publish' && p.topic === 't/p1') sent.push(p.length ?? 0); });
    const batch = Array.from({ length: 60 }, (_, i) => reading(i));
    const big = reading(99, { note: 'x'.repeat(800) });
    const [a, single, mixed] = await submitAll(pub, [batch, big, [reading(100), big, reading(101)]]);
    assert.deepStrictEqual(a, { ok: true });
    assert.strictEqual(single.ok, false);
    assert.strictEqual(single.permanent, true);
    assert.match(single.error as string, /maximum packet size/);
    assert.strictEqual(mixed.ok, false);
    assert.strictEqual(mixed.permanent, true, 'the oversize reading is refused for good');
    await waitFor(() => sub.got.reduce((n, g) => n + JSON.parse(g.payload).length, 0) === 62, 'the 60 + 2 deliverable readings');
    assert.ok(sub.got.length >= 5, `split into ${sub.got.length} messages`);
    assert.deepStrictEqual(sub.got.flatMap((g) => JSON.parse(g.payload)).map((r: any) => r.value), [...batch.map((r) => r.value), 100, 101], 'order kept');
    assert.deepStrictEqual(states, [], 'the broker never dropped us for a packet too large');
  });

  // Mosquitto answers a publish over message_size_limit with PUBACK 0x95, a code MQTT 5 does not allow in PUBACK
  // (mqtt.js cannot read it): the largest publish in flight is taken as refused for its size, never dead-lettered on that guess
  it('size refusal without a stated limit (Mosquitto message_size_limit): a batch is answered transient and goes out split on the retries', async function () {
    const b = await broker('message_size_limit 1000\n');
    const sub = await subscriber(b.url, 't/#');
    subs.push(sub.c);
    const conn = connection({ url: b.url, protocolVersion: 5 });
    await waitFor(() => conn.state === 'connected', 'connected');
    assert.strictEqual(conn.limits.maxPacketSize, 0, 'the broker states no packet size');
    const pub = publisher(conn, { topic: compileTopic('t/{plantId}') });
    const batch = Array.from({ length: 60 }, (_, i) => reading(i));
    const attempts: SendResult[] = [];
    // the store-and-forward buffer's part: send the same batch again while the answer is transient
    for (let i = 0; i < 10; i++) {
      await waitFor(() => conn.state === 'connected', 'connected', 10000);
      const [r] = await submitAll(pub, [batch]);
      attempts.push(r);
      if (r.ok || r.permanent) break;
    }
    const last = attempts[attempts.length - 1];
    assert.deepStrictEqual(last, { ok: true }, JSON.stringify(attempts));
    assert.ok(attempts.length > 1 && attempts.slice(0, -1).every((r) => !r.ok && !r.permanent && /too large/.test(r.error as string)), JSON.stringify(attempts));
    // parts of a refused attempt that fitted were delivered already (at least once): every reading arrived
    const values = () => new Set(sub.got.flatMap((g) => JSON.parse(g.payload)).map((r: any) => r.value));
    await waitFor(() => values().size === 60, 'the 60 readings').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(attempts)} got ${sub.got.map((g) => g.payload.length)}`);
    });
    assert.ok(sub.got.every((g) => Buffer.byteLength(g.payload) <= 1000));
  });

  it('maximum QoS 0: QoS 1 is refused with a transient answer and a warning; QoS 0 and the state topic still work', async function () {
    const b = await broker('max_qos 0\n');
    const sub = await subscriber(b.url, '#');
    subs.push(sub.c);
    const warnings: string[] = [];
    const conn = new MqttConnection({ url: b.url, clientId: 'qos-0-gw', protocolVersion: 5, reconnectMinMs: 50, reconnectMaxMs: 200, stateTopic: 'gw/qos-0-gw/state' });
    opened.push(conn);
    conn.on('warning', (w: string) => warnings.push(w));
    conn.start();
    // the broker refuses a QoS 1 last will: the connection comes up with a QoS 0 one
    await waitFor(() => conn.state === 'connected', 'connected', 10000);
    assert.strictEqual(conn.limits.maxQos, 0);
    assert.strictEqual(conn.problem, 'maxQos');
    assert.match(warnings.join('\n'), /QoS 0 only/);
    const [r] = await submitAll(publisher(conn, { qos: 1 }), [reading(1)]);
    assert.strictEqual(r.ok, false);
    assert.ok(!r.permanent, 'kept by the buffer until the QoS is fixed');
    assert.match(r.error as string, /QoS 0 at most/);
    assert.deepStrictEqual(await submitAll(publisher(conn, { qos: 0 }), [reading(2)]), [{ ok: true }]);
    await waitFor(() => sub.got.some((g) => g.topic === 't/S-2'), 'QoS 0 reading delivered');
    await waitFor(() => sub.got.some((g) => g.topic === 'gw/qos-0-gw/state' && JSON.parse(g.payload).state === 'online'), 'birth message');
    assert.ok(!sub.got.some((g) => g.topic === 't/S-1'), 'the refused reading never reached the broker');
  });

  it('retain not available: connects with a will that is not retained, birth message not retained, data delivered', async function () {
    const b = await broker('retain_available false\n');
    const sub = await subscriber(b.url, '#');
    subs.push(sub.c);
    const states: string[] = [];
    const conn = new MqttConnection({ url: b.url, clientId: 'noretain', protocolVersion: 5, reconnectMinMs: 50, reconnectMaxMs: 200, stateTopic: 'gw/noretain/state' });
    opened.push(conn);
    conn.on('state', (s: string) => states.push(s));
    conn.start();
    await waitFor(() => conn.state === 'connected', 'connected', 10000);
    assert.strictEqual(conn.limits.retainAvailable, false);
    await waitFor(() => sub.got.some((g) => g.topic === 'gw/noretain/state'), 'birth message');
    assert.deepStrictEqual(await submitAll(publisher(conn), [reading(1)]), [{ ok: true }]);
    const connects = states.filter((s) => s === 'connected').length;
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(states.filter((s) => s === 'connected').length, connects, 'not dropped for a retained publish');
  });

  it('topic alias maximum: aliases stay within what the broker allows, every reading on its topic', async function () {
    const b = await broker('max_topic_alias 2\n');
    const sub = await subscriber(b.url, 'ta/#');
    subs.push(sub.c);
    const conn = connection({ url: b.url, protocolVersion: 5 });
    await waitFor(() => conn.state === 'connected', 'connected');
    assert.strictEqual(conn.limits.topicAliasMaximum, 2);
    const aliases: number[] = [];
    conn.client!.on('packetsend', (p: any) => { if (p.cmd === 'publish' && p.properties?.topicAlias) aliases.push(p.properties.topicAlias); });
    const pub = publisher(conn, { topic: compileTopic('ta/{sensorId}') });
    const inputs = Array.from({ length: 40 }, (_, i) => reading(i, { sensorId: `A-${i % 5}` }));
    for (const chunk of [inputs.slice(0, 20), inputs.slice(20)]) assert.ok((await submitAll(pub, chunk)).every((r) => r.ok));
    await waitFor(() => sub.got.length >= 5, 'readings at the subscriber');
    await waitFor(() => sub.got.reduce((n, g) => n + (g.payload.startsWith('[') ? JSON.parse(g.payload).length : 1), 0) === 40, 'all 40 readings');
    for (const g of sub.got) for (const r of [].concat(JSON.parse(g.payload))) assert.strictEqual(g.topic, `ta/${(r as any).sensorId}`);
    assert.ok(aliases.length > 0, 'aliases were used');
    assert.ok(aliases.every((a) => a >= 1 && a <= 2), `aliases ${[...new Set(aliases)]}`);
  });

  it('PUBACK 0x87 (not authorized by the ACL) is permanent; allowed topics are delivered', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-acl-'));
    const acl = path.join(dir, 'acl');
    fs.writeFileSync(acl, 'topic readwrite allowed/#\n');
    // Mosquitto started as root drops to its own user, which must be able to read the file
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(acl, 0o644);
    try {
      const b = await broker(`acl_file ${acl}\n`);
      const conn = connection({ url: b.url, protocolVersion: 5 });
      await waitFor(() => conn.state === 'connected', 'connected');
      const [denied] = await submitAll(publisher(conn, { topic: compileTopic('denied/{sensorId}') }), [reading(1)]);
      const [allowed] = await submitAll(publisher(conn, { topic: compileTopic('allowed/{sensorId}') }), [reading(2)]);
      assert.strictEqual(denied.ok, false);
      assert.strictEqual(denied.permanent, true);
      assert.match(denied.error as string, /0x87/);
      assert.deepStrictEqual(allowed, { ok: true });
      assert.strictEqual(conn.state, 'connected');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
