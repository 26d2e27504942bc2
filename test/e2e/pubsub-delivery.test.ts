// Pub/Sub delivery end to end with the real emulator: store-and-forward → cloud publisher (Pub/Sub mode) →
// feedback wire → store-and-forward, with the emulator killed mid-stream and restarted; and the
// service-account key kept out of flows.json, logs and errors in a real Node-RED process.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
const helper = require('node-red-node-test-helper');
import { PubsubEmulator, adminClient, emulatorFor, subscribe, PROJECT } from '../helpers/pubsub-emulator';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { startRedProcess } from '../helpers/red-process';
import { waitFor, sleep } from '../helpers/wait';
import { freePort } from '../helpers/net';
import mqtt from 'mqtt';
import { startAedesBroker } from '../../scripts/plant/aedes-broker';
import { PlantSignals } from '../../scripts/plant/signals';
import { startSensorPublisher } from '../../scripts/plant/sensors';
import { example6, PUBSUB_DEMO } from '../../scripts/examples';

const storeForwardNode = require('../../dist/nodes/genix-store-forward.js');
const endpointNode = require('../../dist/nodes/genix-cloud-endpoint.js');
const publisherNode = require('../../dist/nodes/genix-cloud-publisher.js');

const N = 600;

describe('Pub/Sub delivery loop against the emulator', function () {
  this.timeout(180000);
  let emu: PubsubEmulator;
  before(async function () {
    emu = await emulatorFor(this);
  });
  after(async function () {
    await helper.unload();
    if (emu) await emu.stop();
  });

  it('emulator killed mid-stream with store-and-forward in front: reports turn ok:false, rows stay; after the restart every reading arrives', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pubsub-loop-'));
    // the gateway reaches the emulator through a proxy: after the restart the topic is created before the
    // gateway can publish again (the emulator forgets topics; a real project does not)
    const proxy: TcpProxy = await startTcpProxy(emu.port);
    let sub = await subscribe(adminClient(emu.host), 'sensor-data', 'loop-test');
    const values = new Set<number>();
    const collect = () => { for (const m of sub.received.splice(0)) values.add(JSON.parse(m.data).value); };
    const ticker = setInterval(collect, 20);
    try {
      await helper.load([storeForwardNode, endpointNode, publisherNode], [
        { id: 'sf', type: 'genix-store-forward', dbPath: path.join(dir, 'loop.db'), maxInFlight: 50, ackTimeoutMs: 8000, replayRate: 0, replayBatchSize: 50, retryMinMs: 200, retryMaxMs: 1000, synchronous: 'NORMAL', wires: [['pub'], []] },
        { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'pubsub', projectId: PROJECT, apiEndpoint: `127.0.0.1:${proxy.port}`, timeoutMs: 3000 },
        { id: 'pub', type: 'genix-cloud-publisher', endpoint: 'ep', topic: 'sensor-data', batchMaxMessages: 1, batchMaxMs: 20, batchMaxBytes: 131072, wires: [['sf', 'watch']] },
        { id: 'watch', type: 'helper' },
      ]);
      const sf = helper.getNode('sf');
      const reports: any[] = [];
      helper.getNode('watch').on('input', (m: any) => reports.push({ ...m.delivery, messageIds: m.messageIds }));
      let killed = false;
      for (let i = 0; i < N; i++) {
        sf.receive({ topic: 'TEMP-1', payload: { sensorId: 'TEMP-1', value: i, ts: 1686000000000 + i, quality: 'good' } });
        if (i % 20 === 19) await sleep(5);
        if (i === N / 3) {
          // the emulator keeps messages in memory only: let the subscriber (our witness of what it accepted)
          // catch up, then kill it with the stream still running
          await waitFor(() => { collect(); return sf.buffer.backlog === 0 && values.size > i; }, 'subscriber caught up', 30000);
          await emu.kill();
          proxy.cut();
          killed = true;
        }
        if (killed && i === N / 3 + 40) {
          await waitFor(() => reports.some((d) => d.ok === false), 'ok:false reports after the kill', 30000);
          assert.ok(sf.buffer.backlog > 0, 'rows stay in the buffer');
        }
        if (killed && i === (2 * N) / 3) {
          await sub.close().catch(() => undefined);
          await emu.restart();
          sub = await subscribe(adminClient(emu.host), 'sensor-data', 'loop-test');
          proxy.restore();
          killed = false;
        }
      }
      await waitFor(() => sf.buffer.backlog === 0, 'buffer drained', 90000, 50);
      const missing = () => { collect(); return Array.from({ length: N }, (_, i) => i).filter((i) => !values.has(i)); };
      await waitFor(() => missing().length === 0, `all ${N} readings at the subscription`, 20000).catch((e) => {
        throw new Error(`${e.message}; missing ${missing().length}: ${missing().slice(0, 10).join(',')}`);
      });
      assert.strictEqual(values.size, N, 'counted by content: every value, none lost');
      const failed = reports.filter((d) => d.ok === false);
      assert.ok(failed.length > 0 && reports.some((d) => d.ok === true));
      assert.ok(failed.every((d) => typeof d.error === 'string' && !d.permanent), `outage answers are transient: ${JSON.stringify(failed.find((d) => d.permanent))}`);
      assert.ok(reports.filter((d) => d.ok).every((d) => Array.isArray(d.messageIds) && d.messageIds.length >= 1), 'every ok answer names its message ids');
    } finally {
      clearInterval(ticker);
      await helper.unload();
      await sub.close().catch(() => undefined);
      await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('example flow 06 runs against the emulator: readings reach topic sensor-data, alarm events topic anomalies', async function () {
    const admin = new (require('@google-cloud/pubsub').PubSub)({ projectId: PUBSUB_DEMO.projectId, apiEndpoint: emu.host, ...require('../../nodes/lib/cloud/pubsub-sender').emulatorAuth() });
    const received: Record<string, Array<{ data: any; attributes: Record<string, string>; orderingKey: string }>> = { 'sensor-data': [], anomalies: [] };
    const subs: any[] = [];
    for (const t of Object.keys(received)) {
      const [topic] = await admin.topic(t).get({ autoCreate: true });
      const [sub] = await topic.createSubscription(`${t}-ex6`, { enableMessageOrdering: true });
      sub.on('message', (m: any) => { received[t].push({ data: JSON.parse(m.data.toString()), attributes: m.attributes, orderingKey: m.orderingKey }); m.ack(); });
      sub.on('error', () => undefined);
      subs.push(sub);
    }
    const broker = await startAedesBroker(await freePort());
    const red = await startRedProcess({ flows: example6({ sensorBrokerUrl: broker.url, cloudBrokerUrl: '', opcuaEndpointUrl: '' }, emu.host) });
    const sensors = await startSensorPublisher({ url: broker.url, signals: new PlantSignals({ sensors: 8, rateMs: 100, faults: 'none' }) });
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      await waitFor(() => received['sensor-data'].length >= 20, 'readings at sensor-data', 30000);
      const r = received['sensor-data'][0];
      assert.strictEqual(typeof r.data.sensorId, 'string');
      assert.strictEqual(r.attributes.sensorId, r.data.sensorId);
      assert.strictEqual(r.orderingKey, r.data.sensorId);
      // far from TEMP-*'s baseline: one deviation alarm, published to anomalies
      await waitFor(async () => {
        await client.publishAsync('sensors/TEMP-77/data', JSON.stringify({ sensor_id: 'TEMP-77', temperature: 90, timestamp: Date.now() }));
        return received.anomalies.some((a) => a.data.sensorId === 'TEMP-77' && a.data.state === 'active');
      }, 'a TEMP-77 alarm at anomalies', 30000, 500);
      const alarm = received.anomalies.find((a) => a.data.sensorId === 'TEMP-77') as { attributes: Record<string, string> };
      assert.strictEqual(alarm.attributes.kind, 'deviation');
      assert.ok(!received['sensor-data'].some((m) => m.data.kind !== undefined), 'no alarm events among the readings');
      assert.ok(!/\[error\]/.test(red.output()), red.output().slice(-2000));
    } finally {
      await sensors.stop().catch(() => undefined);
      await client.endAsync(true).catch(() => undefined);
      await red.stop();
      await broker.close();
      for (const sub of subs) await Promise.race([sub.close(), sleep(1000)]);
      await admin.close();
    }
  });

  it('the service-account key is a credential: never in flows.json, the log or the errors', async function () {
    const marker = 'PRIVATEKEYMARKER0123456789';
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pubsub-cred-'));
    const red = await startRedProcess({ userDir, flows: [] });
    try {
      const deploy = async (key: string) => {
        const flows = [
          { id: 'tab1', type: 'tab', label: 'pubsub' },
          { id: 'ep1', type: 'genix-cloud-endpoint', protocol: 'pubsub', projectId: PROJECT, apiEndpoint: emu.host, credentials: { serviceAccountKey: key } },
          { id: 'pub1', z: 'tab1', type: 'genix-cloud-publisher', endpoint: 'ep1', topic: 'sensor-data', wires: [[]] },
        ];
        const res = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
        assert.ok(res.status === 200 || res.status === 204, `deploy answered ${res.status}: ${await res.text()}`);
      };
      // a key that is not JSON: the error says what to fix, without echoing the key
      await deploy(`{"type":"service_account","private_key":"${marker}"`);
      await waitFor(() => /service-account key is not valid JSON/.test(red.output()), 'the configuration error in the log', 10000);
      // a well-formed key: accepted
      await deploy(JSON.stringify({ type: 'service_account', client_email: 'gw@genix-test.iam.gserviceaccount.com', private_key: `-----BEGIN PRIVATE KEY-----\n${marker}\n-----END PRIVATE KEY-----\n` }));
      await sleep(500);
      const flowsJson = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
      assert.ok(flowsJson.includes('genix-cloud-endpoint'), 'the flow was saved');
      assert.ok(!flowsJson.includes(marker), 'no key in flows.json');
      assert.ok(!red.output().includes(marker), 'no key in the log');
      // the admin API gives the editor only whether a key is set
      const creds = await (await fetch(`${red.url}/credentials/genix-cloud-endpoint/ep1`)).json();
      assert.ok(!JSON.stringify(creds).includes(marker), JSON.stringify(creds));
      assert.strictEqual(creds.has_serviceAccountKey, true);
    } finally {
      await red.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});
