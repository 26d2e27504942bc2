import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
const helper = require('node-red-node-test-helper');
import { brokerKinds, startMosquitto, TestBroker } from '../helpers/brokers';
import { startIngest } from '../helpers/http-ingest';
import { makePki, TestPki } from '../helpers/tls';
import { freePort, waitForPort } from '../helpers/net';
import { waitFor } from '../helpers/wait';
import { describeIf, itIf } from '../helpers/prereq';
import { startTcpProxy } from '../helpers/tcp-proxy';

const endpointNode = require('../../dist/nodes/genix-cloud-endpoint.js');
const publisherNode = require('../../dist/nodes/genix-cloud-publisher.js');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');

const reading = (i: number) => ({ sensorId: `TEMP-${i}`, value: i, ts: 1686000000000 + i, quality: 'good', plantId: 'p1', lineId: 'l1' });

function flow(endpoint: object, publisher: object = {}) {
  return [
    { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', reconnectMinMs: 50, reconnectMaxMs: 200, ...endpoint },
    { id: 'pub', type: 'genix-cloud-publisher', endpoint: 'ep', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 20, batchMaxBytes: 131072, wires: [['out']], ...publisher },
    { id: 'out', type: 'helper' },
  ];
}

function collect(id: string): any[] {
  const got: any[] = [];
  helper.getNode(id).on('input', (m: any) => got.push(m));
  return got;
}

async function subscriber(url: string, topic = '#', opts: mqtt.IClientOptions = {}) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  c.on('message', (t, p, packet) => got.push({ topic: t, payload: p.toString(), retain: packet.retain }));
  await c.subscribeAsync(topic, { qos: 1 });
  return { c, got };
}

describe('genix-cloud-publisher node', function () {
  afterEach(async function () {
    await helper.unload();
  });

  for (const bk of brokerKinds) {
    describeIf(bk.available, `${bk.kind} is not installed (apt-get install mosquitto; .ci/run installs it)`)(`MQTT against ${bk.kind}`, function () {
      let broker: TestBroker;
      beforeEach(async function () { broker = await bk.start(); });
      afterEach(async function () { await broker.stop(); });

      it('answers each message with msg.delivery after PUBACK, keeping the buffer fields; birth and last will on the state topic', async function () {
        const sub = await subscriber(broker.url);
        await helper.load([endpointNode, publisherNode], flow({ url: broker.url, clientId: 'gw-1', stateTopic: 'gateways/{clientId}/state' }));
        const out = collect('out');
        const pub = helper.getNode('pub');
        await waitFor(() => sub.got.some((g) => g.topic === 'gateways/gw-1/state' && JSON.parse(g.payload).state === 'online'), 'birth message');
        pub.receive({ payload: reading(1), delivery: { buffer: 'buf', ids: [7], attempt: 2 } });
        pub.receive({ payload: reading(2) });
        await waitFor(() => out.length === 2, 'two reports');
        assert.deepStrictEqual(out[0].delivery, { buffer: 'buf', ids: [7], attempt: 2, ok: true });
        assert.deepStrictEqual(out[1].delivery, { ok: true });
        await waitFor(() => sub.got.filter((g) => g.topic.startsWith('plants/')).length === 2, 'both readings at the subscriber');
        const data = sub.got.filter((g) => g.topic.startsWith('plants/'));
        assert.deepStrictEqual(data.map((d) => d.topic), ['plants/p1/TEMP-1', 'plants/p1/TEMP-2']);
        assert.deepStrictEqual(JSON.parse(data[0].payload), reading(1));
        await waitFor(() => pub.status.getCalls().some((c: any) => c.args[0].fill === 'green' && /genix-cloud-publisher\.status\.connected/.test(c.args[0].text)), 'connected status');
        await helper.unload();
        await waitFor(() => sub.got.some((g) => g.topic === 'gateways/gw-1/state' && JSON.parse(g.payload).state === 'offline'), 'offline state on close');
        await sub.c.endAsync(true);
      });

      it('replay batch: one JSON array on the wire, one report', async function () {
        const sub = await subscriber(broker.url, 'plants/#');
        await helper.load([endpointNode, publisherNode], flow({ url: broker.url }, { topic: 'plants/{plantId}' }));
        const out = collect('out');
        await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
        const batch = [reading(1), reading(2), reading(3)];
        helper.getNode('pub').receive({ payload: batch, delivery: { buffer: 'b', ids: [1, 2, 3], attempt: 1 } });
        await waitFor(() => out.length === 1 && sub.got.length === 1, 'report and message');
        assert.strictEqual(out[0].delivery.ok, true);
        assert.deepStrictEqual(JSON.parse(sub.got[0].payload), batch);
        await sub.c.endAsync(true);
      });

      it('broker stopped: reports turn ok:false at once; after restart ok:true again', async function () {
        await helper.load([endpointNode, publisherNode], flow({ url: broker.url }));
        const out = collect('out');
        const pub = helper.getNode('pub');
        await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
        await broker.stop();
        await waitFor(() => helper.getNode('ep').transport.state !== 'connected', 'link loss noticed', 5000);
        const t0 = Date.now();
        pub.receive({ payload: reading(1), delivery: { buffer: 'b', ids: [1], attempt: 1 } });
        await waitFor(() => out.length === 1, 'report while down');
        // answered at once, not held until a reconnect (the broker stays down)
        assert.ok(Date.now() - t0 < 2000, 'answered promptly');
        assert.strictEqual(out[0].delivery.ok, false);
        assert.match(out[0].delivery.error, /not connected/);
        assert.ok(!out[0].delivery.permanent);
        await broker.restart();
        await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'reconnected', 10000);
        pub.receive({ payload: reading(2) });
        await waitFor(() => out.length === 2, 'report after restart');
        assert.strictEqual(out[1].delivery.ok, true);
      });
    });
  }

  it('bad input: done(err) for Catch nodes and a permanent ok:false report; the next message still goes', async function () {
    const broker = await brokerKinds[0].start();
    try {
      await helper.load([endpointNode, publisherNode], flow({ url: broker.url }));
      const out = collect('out');
      const pub = helper.getNode('pub');
      await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
      const circular: any = { sensorId: 'X', value: 1, ts: 1, quality: 'good' };
      circular.self = circular;
      pub.receive({ payload: null });
      pub.receive({ payload: circular });
      pub.receive({ payload: reading(3) });
      await waitFor(() => out.length === 3, 'three reports');
      assert.strictEqual(out[0].delivery.ok, false);
      assert.strictEqual(out[0].delivery.permanent, true);
      assert.match(out[1].delivery.error, /cannot be serialized/);
      assert.strictEqual(out[2].delivery.ok, true);
      await waitFor(() => pub.error.getCalls().length >= 2, 'errors reported');
      assert.match(String(pub.error.getCall(0).args[0]), /msg\.payload is missing/);
    } finally {
      await helper.unload();
      await broker.stop();
    }
  });

  it('rejects a topic template with an unknown placeholder at deploy', async function () {
    await helper.load([endpointNode, publisherNode], flow({ url: 'mqtt://127.0.0.1:1' }, { topic: 'a/{sensor}' }));
    const pub = helper.getNode('pub');
    assert.match(String(pub.error.getCall(0).args[0]), /unknown placeholder \{sensor\}/);
    const out = collect('out');
    pub.receive({ payload: reading(1) });
    await waitFor(() => out.length === 1, 'report');
    assert.strictEqual(out[0].delivery.ok, false);
  });

  itIf(brokerKinds[1].available, 'Mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')('MQTT over TLS with a client certificate (Mosquitto, tls-config)', async function () {
    const pki: TestPki = makePki();
    const tlsPort = await freePort();
    const broker = await startMosquitto(undefined, `listener ${tlsPort} 127.0.0.1\ncafile ${pki.caFile}\ncertfile ${pki.serverCertFile}\nkeyfile ${pki.serverKeyFile}\nrequire_certificate true\nuse_identity_as_username true\n`);
    try {
      await waitForPort(tlsPort);
      const url = `mqtts://127.0.0.1:${tlsPort}`;
      const sub = await subscriber(broker!.url, 'plants/#');
      await helper.load([tlsNode, endpointNode, publisherNode], [
        { id: 'tls', type: 'tls-config', cert: pki.clientCertFile, key: pki.clientKeyFile, ca: pki.caFile, verifyservercert: true },
        ...flow({ url, tls: 'tls' }),
      ]);
      const out = collect('out');
      await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'TLS connected', 10000);
      helper.getNode('pub').receive({ payload: reading(5) });
      await waitFor(() => out.length === 1 && sub.got.length === 1, 'delivered over TLS');
      assert.strictEqual(out[0].delivery.ok, true);
      await helper.unload();
      // without the client certificate the broker refuses the connection
      await helper.load([tlsNode, endpointNode, publisherNode], [
        { id: 'tls', type: 'tls-config', cert: '', key: '', ca: pki.caFile, verifyservercert: true },
        ...flow({ url, tls: 'tls' }),
      ]);
      const out2 = collect('out');
      await waitFor(() => helper.getNode('ep').transport.state === 'disconnected', 'refused without client cert', 10000);
      helper.getNode('pub').receive({ payload: reading(6) });
      await waitFor(() => out2.length === 1, 'report');
      assert.strictEqual(out2[0].delivery.ok, false);
      await sub.c.endAsync(true);
    } finally {
      await helper.unload();
      await broker!.stop();
      pki.cleanup();
    }
  });

  it('HTTPS via tls-config with a bearer token; transient vs permanent; the token never leaks', async function () {
    const pki = makePki();
    const ingest = await startIngest({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    const secret = 'sup3r-s3cret-token';
    const warnings: string[] = [];
    try {
      await helper.load([tlsNode, endpointNode, publisherNode], [
        { id: 'tls', type: 'tls-config', cert: '', key: '', ca: pki.caFile, verifyservercert: true },
        ...flow({ protocol: 'http', url: ingest.url, tls: 'tls', httpFormat: 'ndjson', gzip: true, timeoutMs: 2000 }, { topic: '' }),
      ], { ep: { token: secret } });
      const out = collect('out');
      const pub = helper.getNode('pub');
      pub.receive({ payload: [reading(1), reading(2)], delivery: { buffer: 'b', ids: [1, 2], attempt: 1 } });
      await waitFor(() => out.length === 1, 'first report');
      assert.strictEqual(out[0].delivery.ok, true);
      assert.strictEqual(ingest.requests[0].headers.authorization, `Bearer ${secret}`);
      assert.deepStrictEqual(ingest.requests[0].readings, [reading(1), reading(2)]);
      ingest.script.push({ status: 401 }, { status: 503, headers: { 'retry-after': '2' } });
      pub.receive({ payload: reading(3), delivery: { buffer: 'b', ids: [3], attempt: 1 } });
      await waitFor(() => out.length === 2, 'second report');
      pub.receive({ payload: reading(4), delivery: { buffer: 'b', ids: [4], attempt: 1 } });
      await waitFor(() => out.length === 3, 'third report');
      assert.deepStrictEqual(out[1].delivery, { buffer: 'b', ids: [3], attempt: 1, ok: false, error: 'HTTP 401', permanent: true });
      assert.deepStrictEqual(out[2].delivery, { buffer: 'b', ids: [4], attempt: 1, ok: false, error: 'HTTP 503', retryAfterMs: 2000 });
      // the secret is in none of: saved flow, node config, log/error/warn calls, status texts, reports
      const flows = JSON.stringify((helper as any)._redNodes.getFlows().flows);
      assert.ok(!flows.includes(secret), 'flow');
      for (const id of ['ep', 'pub']) {
        const n = helper.getNode(id);
        for (const m of ['error', 'warn', 'log', 'status', 'debug', 'trace']) for (const c of n[m]?.getCalls?.() ?? []) warnings.push(JSON.stringify(c.args));
      }
      for (const m of out) warnings.push(JSON.stringify(m.delivery));
      assert.ok(warnings.length >= 3);
      assert.ok(warnings.every((w) => !w.includes(secret)), 'logs, status, reports');
    } finally {
      await helper.unload();
      await ingest.close();
      pki.cleanup();
    }
  });

  it('default client id: host name + an id saved in the user directory, the same after a restart, different on another gateway; shown by the admin route', async function () {
    const broker = await brokerKinds[0].start();
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), 'genix-gw-a-')), fs.mkdtempSync(path.join(os.tmpdir(), 'genix-gw-b-'))];
    const idOn = async (userDir: string) => {
      helper.settings({ userDir });
      const sub = await subscriber(broker.url, 'gw/+/state');
      try {
        // the same flow on every gateway: no client id configured
        await helper.load([endpointNode, publisherNode], flow({ url: broker.url, stateTopic: 'gw/{clientId}/state' }));
        await waitFor(() => sub.got.some((g) => JSON.parse(g.payload).state === 'online'), 'birth message');
        const id = JSON.parse(sub.got.find((g) => JSON.parse(g.payload).state === 'online')!.payload).clientId as string;
        const shown = await helper.request().get('/genix/cloud/default-client-id').query({ node: 'ep' }).expect(200);
        assert.strictEqual(shown.body.clientId, id, 'the dialog shows the id in use');
        assert.strictEqual(helper.getNode('ep').clientId, id);
        return id;
      } finally {
        await helper.unload();
        await sub.c.endAsync(true);
      }
    };
    try {
      const a1 = await idOn(dirs[0]);
      assert.match(a1, new RegExp(`^genix-${os.hostname().toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24).replace(/^-+|-+$/g, '')}-[0-9a-f]{8}$`));
      assert.notStrictEqual(a1, 'genix-ep');
      assert.ok(fs.existsSync(path.join(dirs[0], '.genix-installation-id')), 'installation id saved');
      assert.strictEqual(await idOn(dirs[0]), a1, 'same installation: same id');
      const b1 = await idOn(dirs[1]);
      assert.notStrictEqual(b1, a1, 'another installation importing the same flow: another id');
      // bad input to the admin route: 400 with a message, never a stack
      await helper.load([endpointNode, publisherNode], flow({ url: broker.url }));
      for (const q of [{}, { node: '../../etc/passwd' }, { node: 'x'.repeat(65) }, { node: ['a', 'b'] }]) {
        const r = await helper.request().get('/genix/cloud/default-client-id').query(q).expect(400);
        assert.match(r.body.error, /node id/);
        assert.ok(!/\bat .*\.(js|ts):\d+/.test(r.text), r.text);
      }
    } finally {
      helper.settings({ userDir: undefined });
      await helper.unload();
      await broker.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  itIf(brokerKinds[1].available, 'Mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')('two endpoints sharing one client id: takeover status on the publishers and a warning naming the id, never the password', async function () {
    const broker = (await startMosquitto()) as TestBroker;
    const secret = 'dup-s3cret-pw';
    try {
      const ep = { type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url, clientId: 'dup-gw', protocolVersion: '5', reconnectMinMs: 50, reconnectMaxMs: 200 };
      await helper.load([endpointNode, publisherNode], [
        { id: 'ep1', ...ep }, { id: 'ep2', ...ep },
        { id: 'pub1', type: 'genix-cloud-publisher', endpoint: 'ep1', topic: 't/{sensorId}', qos: '1', wires: [] },
        { id: 'pub2', type: 'genix-cloud-publisher', endpoint: 'ep2', topic: 't/{sensorId}', qos: '1', wires: [] },
      ], { ep1: { username: 'gw', password: secret }, ep2: { username: 'gw', password: secret } });
      const statusOf = (id: string) => helper.getNode(id).status.getCalls().map((c: any) => c.args[0]);
      await waitFor(() => ['pub1', 'pub2'].some((id) => statusOf(id).some((st: any) => /genix-cloud-publisher\.status\.takeover/.test(st.text))), 'takeover status', 20000);
      const warned = ['ep1', 'ep2'].flatMap((id) => helper.getNode(id).warn.getCalls().map((c: any) => String(c.args[0])));
      assert.ok(warned.some((w) => w.includes('"dup-gw"') && /another client/.test(w)), warned.join('\n'));
      const seen = [...warned, ...['pub1', 'pub2'].flatMap((id) => statusOf(id).map((st: any) => JSON.stringify(st)))];
      assert.ok(seen.every((x) => !x.includes(secret)));
    } finally {
      await helper.unload();
      await broker.stop();
    }
  });

  it('half-open connection with keepalive 0: the status says the broker does not answer, a warning is logged, and it recovers', async function () {
    const broker = await brokerKinds[0].start();
    const proxy = await startTcpProxy(broker.port);
    try {
      await helper.load([endpointNode, publisherNode], flow({ url: `mqtt://127.0.0.1:${proxy.port}`, keepalive: 0, answerTimeoutMs: 300 }));
      const pub = helper.getNode('pub');
      const texts = () => pub.status.getCalls().map((c: any) => `${c.args[0].fill}:${c.args[0].text}`);
      await waitFor(() => helper.getNode('ep').transport.state === 'connected', 'connected');
      proxy.cut({ blackhole: true });
      await waitFor(() => texts().some((t: string) => /^red:genix-cloud-publisher\.status\.unresponsive/.test(t)), 'unresponsive status', 10000);
      assert.ok(helper.getNode('ep').warn.getCalls().some((c: any) => /no answer from the broker/.test(String(c.args[0]))));
      proxy.restore();
      await waitFor(() => /^green:genix-cloud-publisher\.status\.connected/.test(texts()[texts().length - 1]), 'connected again', 10000);
    } finally {
      await helper.unload();
      await proxy.close();
      await broker.stop();
    }
  });

  it('MQTT password never appears in flows, errors, status or reports when the broker refuses it', async function () {
    const secret = 'pw-v3ry-s3cret';
    const broker = await brokerKinds[0].start();
    const port = broker.port;
    await broker.stop();
    // an aedes that refuses every login
    const { startAedesBroker } = require('../../scripts/plant/aedes-broker');
    const strict = await startAedesBroker(port);
    strict.aedes.authenticate = (_c: unknown, _u: unknown, _p: unknown, cb: (e: any, ok: boolean) => void) => cb(Object.assign(new Error('bad login'), { returnCode: 4 }), false);
    try {
      await helper.load([endpointNode, publisherNode], flow({ url: `mqtt://127.0.0.1:${port}` }), { ep: { username: 'gateway', password: secret } });
      const out = collect('out');
      await waitFor(() => helper.getNode('ep').transport.lastError, 'refused login', 5000);
      helper.getNode('pub').receive({ payload: reading(1) });
      await waitFor(() => out.length === 1, 'report');
      assert.strictEqual(out[0].delivery.ok, false);
      const seen: string[] = [JSON.stringify(out[0].delivery), helper.getNode('ep').transport.lastError, JSON.stringify((helper as any)._redNodes.getFlows().flows)];
      for (const id of ['ep', 'pub']) {
        const n = helper.getNode(id);
        for (const m of ['error', 'warn', 'log', 'status', 'debug']) for (const c of n[m]?.getCalls?.() ?? []) seen.push(JSON.stringify(c.args));
      }
      assert.ok(seen.every((s) => !s.includes(secret)));
    } finally {
      await helper.unload();
      await strict.close();
    }
  });
});
