// The cloud MQTT connection through real faults: takeover loops (Mosquitto), half-open connections (a TCP proxy
// that goes silent), who resends after a disconnect (clean vs persistent session), a PUBACK that never comes (aedes).
import assert from 'assert';
import mqtt from 'mqtt';
import { MqttConnection, MqttConnectionOptions } from '../../nodes/lib/cloud/mqtt-connection';
import { compileTopic } from '../../nodes/lib/cloud/topic';
import type { SendResult } from '../../nodes/lib/cloud/errors';
import { startMosquitto, TestBroker } from '../helpers/brokers';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';
import { reading, needMosquitto, submitAll, subscriber, opened, connection, publisher } from './cloud-mqtt-helpers';

describe('cloud MQTT against aedes: a publish the broker never acknowledges', function () {
  it('is answered ok:false (transient) after the answer timeout instead of holding its slot forever; the next one goes through', async function () {
    const { startAedesBroker } = require('../../scripts/plant/aedes-broker');
    const broker = await startAedesBroker(0);
    let held = 0;
    // the broker accepts the first publish on hold/… but never acknowledges it
    broker.aedes.authorizePublish = (_c: unknown, p: any, cb: (e: Error | null) => void) => { if (p.topic.startsWith('hold/') && held++ === 0) return; cb(null); };
    const conn = connection({ url: broker.url, answerTimeoutMs: 200 });
    try {
      await waitFor(() => conn.state === 'connected', 'connected');
      const [r] = await submitAll(publisher(conn, { topic: compileTopic('hold/{sensorId}') }), [reading(1)]);
      assert.strictEqual(r.ok, false);
      assert.ok(!r.permanent);
      await waitFor(() => conn.state === 'connected', 'reconnected', 10000);
      assert.deepStrictEqual(await submitAll(publisher(conn, { topic: compileTopic('hold/{sensorId}') }), [reading(2)]), [{ ok: true }]);
      assert.strictEqual(conn.inFlight, 0);
    } finally {
      await conn.stop();
      opened.splice(opened.indexOf(conn), 1);
      await broker.close();
    }
  });
});

describe('cloud MQTT against Mosquitto: takeover loops, half-open connections, session resend', function () {
  let b: TestBroker;
  let proxy: TcpProxy | null = null;
  const subs: mqtt.MqttClient[] = [];
  before(async function () {
    needMosquitto(this);
    b = (await startMosquitto()) as TestBroker;
  });
  after(async function () { if (b) await b.stop(); });
  afterEach(async function () {
    while (opened.length) await (opened.pop() as MqttConnection).stop();
    while (subs.length) await (subs.pop() as mqtt.MqttClient).endAsync(true);
    if (proxy) await proxy.close();
    proxy = null;
  });

  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 5 ? '5' : '3.1.1'}: two gateways with one client id are reported as a takeover loop, with the id and no secret`, async function () {
      const warnings: string[] = [];
      const a = connection({ url: b.url, clientId: `fleet-${v}`, protocolVersion: v, password: 'loop-s3cret-pw', username: 'gateway' });
      const c = connection({ url: b.url, clientId: `fleet-${v}`, protocolVersion: v, password: 'loop-s3cret-pw', username: 'gateway' });
      for (const x of [a, c]) x.on('warning', (w: string) => warnings.push(w));
      await waitFor(() => a.problem === 'takeover' || c.problem === 'takeover', 'a takeover loop reported', 20000);
      const w = warnings.find((x) => /another client/.test(x)) as string;
      assert.ok(w, warnings.join('\n'));
      assert.ok(w.includes(`"fleet-${v}"`), w);
      assert.ok(!warnings.some((x) => x.includes('loop-s3cret-pw')));
      // one of them leaves: the other settles and the suspicion ends once its connection is stable
      await c.stop();
    });
  }

  it('a single gateway reconnecting after a broker restart is not taken for a takeover loop', async function () {
    const own = (await startMosquitto()) as TestBroker;
    try {
      const conn = connection({ url: own.url, protocolVersion: 5 });
      await waitFor(() => conn.state === 'connected', 'connected');
      await own.stop();
      await waitFor(() => conn.state !== 'connected', 'loss noticed');
      await own.restart();
      await waitFor(() => conn.state === 'connected', 'reconnected', 10000);
      assert.strictEqual(conn.problem, '');
    } finally {
      await own.stop();
    }
  });

  it('keepalive 0, half-open TCP with readings in flight: no answer is noticed, every reading answered ok:false, then recovery', async function () {
    proxy = await startTcpProxy(b.port);
    const warnings: string[] = [];
    const conn = connection({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSec: 0, answerTimeoutMs: 400 });
    conn.on('warning', (w: string) => warnings.push(w));
    await waitFor(() => conn.state === 'connected', 'connected');
    const pub = publisher(conn);
    assert.deepStrictEqual(await submitAll(pub, [reading(0)]), [{ ok: true }]);
    proxy.cut({ blackhole: true });
    const res = await submitAll(pub, Array.from({ length: 20 }, (_, i) => reading(i + 1)));
    assert.ok(res.every((r) => r.ok === false && !r.permanent), JSON.stringify(res[0]));
    assert.match(res[0].error as string, /no answer from the broker/);
    assert.match(warnings.join('\n'), /no answer from the broker/);
    proxy.restore();
    await waitFor(() => conn.state === 'connected', 'reconnected', 10000);
    assert.deepStrictEqual(await submitAll(pub, [reading(30)]), [{ ok: true }]);
    assert.strictEqual(conn.problem, '');
  });

  it('keepalive 0, idle half-open TCP: the probe goes unanswered and the link is reported down', async function () {
    proxy = await startTcpProxy(b.port);
    const conn = connection({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSec: 0, answerTimeoutMs: 300 });
    await waitFor(() => conn.state === 'connected', 'connected');
    // an idle connection that answers probes stays up
    await new Promise((r) => setTimeout(r, 1000));
    assert.strictEqual(conn.state, 'connected');
    proxy.cut({ blackhole: true });
    await waitFor(() => conn.state !== 'connected', 'dead connection noticed without any publish', 10000);
    assert.strictEqual(conn.problem, 'unresponsive');
  });

  it('keepalive 1 s with our watchdog off: mqtt.js\'s ping timeout ends the half-open connection and answers what was in flight', async function () {
    proxy = await startTcpProxy(b.port);
    const conn = connection({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSec: 1, answerTimeoutMs: 0 });
    await waitFor(() => conn.state === 'connected', 'connected');
    proxy.cut({ blackhole: true });
    const res = await submitAll(publisher(conn), [reading(1), reading(2)]);
    assert.ok(res.every((r) => r.ok === false && /connection lost/.test(r.error as string)), JSON.stringify(res));
  });

  /** Readings sent into a silent link, then the link is cut and restored: returns answers and what reached the broker. */
  async function outage(o: Partial<MqttConnectionOptions>, holdMs = 0) {
    proxy = await startTcpProxy(b.port);
    const sub = await subscriber(b.url, 'sess/#', 4);
    subs.push(sub.c);
    const conn = connection({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSec: 0, answerTimeoutMs: 0, sessionExpirySec: 3600, ...o });
    await waitFor(() => conn.state === 'connected', 'connected');
    const pub = publisher(conn, { topic: compileTopic('sess/{sensorId}') });
    proxy.cut({ blackhole: true });
    const answers: SendResult[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < 10; i++) pub.submit(reading(i), undefined, (r) => answers[i].push(r));
    await waitFor(() => conn.inFlight === 10, 'ten publishes written into the silent link');
    proxy.cut(); // drops the connection and refuses new ones
    await waitFor(() => conn.state !== 'connected', 'loss noticed');
    if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
    proxy.restore();
    await waitFor(() => conn.state === 'connected', 'reconnected', 10000);
    return { conn, pub, sub, answers };
  }

  it('clean session: what was in flight is answered ok:false at the disconnect and not resent by the client', async function () {
    const { pub, sub, answers } = await outage({ clean: true });
    assert.ok(answers.every((a) => a.length === 1 && a[0].ok === false), JSON.stringify(answers));
    // a marker published after the reconnect: once it arrives, anything resent before it would have arrived too
    assert.deepStrictEqual(await submitAll(pub, [reading(99, { sensorId: 'marker' })]), [{ ok: true }]);
    await waitFor(() => sub.got.some((g) => g.topic === 'sess/marker'), 'marker');
    assert.deepStrictEqual(sub.got.map((g) => g.topic), ['sess/marker'], 'nothing resent behind the flow');
  });

  for (const v of [4, 5] as const) {
    it(`persistent session (MQTT ${v === 5 ? '5' : '3.1.1'}): the session resends what was in flight; each reading answered ok once and received once`, async function () {
      const { sub, answers } = await outage({ clean: false, protocolVersion: v });
      await waitFor(() => answers.every((a) => a.length === 1), 'every reading answered', 10000);
      assert.ok(answers.every((a) => a[0].ok === true), JSON.stringify(answers));
      await waitFor(() => sub.got.length === 10, 'ten readings at the subscriber');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepStrictEqual(sub.got.map((g) => JSON.parse(g.payload).value).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each exactly once');
      assert.ok(answers.every((a) => a.length === 1), 'no second answer');
    });
  }

  it('persistent session: an outage longer than the session expiry gives the readings back (ok:false) and nothing is resent later', async function () {
    const { pub, sub, answers } = await outage({ clean: false, protocolVersion: 5, sessionExpirySec: 1 }, 1500);
    assert.ok(answers.every((a) => a.length === 1 && a[0].ok === false && /session expiry/.test(a[0].error as string)), JSON.stringify(answers));
    assert.deepStrictEqual(await submitAll(pub, [reading(99, { sensorId: 'marker' })]), [{ ok: true }]);
    await waitFor(() => sub.got.some((g) => g.topic === 'sess/marker'), 'marker');
    assert.deepStrictEqual(sub.got.map((g) => g.topic), ['sess/marker'], 'the expired readings are the buffer\'s to resend, not the client\'s');
  });
});
