// Sparkplug B out against real brokers (aedes, Mosquitto) and a small primary host that decodes every message.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
const helper = require('node-red-node-test-helper');
import { execFileSync } from 'child_process';
import { brokerKinds, startMosquitto } from '../helpers/brokers';
import { SparkplugHost } from '../helpers/sparkplug-host';
import { waitFor } from '../helpers/wait';
import { describeIf } from '../helpers/prereq';

const storeForwardNode = require('../../dist/nodes/genix-store-forward.js');
const endpointNode = require('../../dist/nodes/genix-cloud-endpoint.js');
const sparkplugNode = require('../../dist/nodes/genix-sparkplug-out.js');

// live readings are stamped after the births (a reading older than the current NBIRTH was held back: historical)
const T0 = Date.now() + 3_600_000;
const reading = (sensorId: string, value: unknown, i: number, extra: Record<string, unknown> = {}) => ({ sensorId, value, ts: T0 + i, quality: 'good', lineId: 'line-1', ...extra });

function flow(url: string, sp: Record<string, unknown> = {}, withBuffer = false, dir = '') {
  const nodes: any[] = [
    { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url, reconnectMinMs: 300, reconnectMaxMs: 600 },
    { id: 'sp', type: 'genix-sparkplug-out', endpoint: 'ep', group: 'plant', edgeNode: 'gw1', wires: [withBuffer ? ['sf', 'watch'] : ['watch']], ...sp },
    { id: 'watch', type: 'helper' },
  ];
  if (withBuffer) nodes.push({ id: 'sf', type: 'genix-store-forward', dbPath: path.join(dir, 'sf.db'), maxInFlight: 20, ackTimeoutMs: 5000, replayRate: 0, replayBatchSize: 20, retryMinMs: 100, retryMaxMs: 300, synchronous: 'NORMAL', wires: [['sp'], []] });
  return nodes;
}

for (const bk of brokerKinds) {
  describeIf(bk.available, `${bk.kind} is not installed (apt-get install mosquitto; .ci/run installs it)`)(`Sparkplug B out against ${bk.kind}`, function () {
    this.timeout(60000);
    afterEach(async function () { await helper.unload(); });

    it('NBIRTH then DBIRTH then DDATA by alias; seq without gaps; reading timestamps; quality as property; new metric → DBIRTH; rebirth on NCMD', async function () {
      const broker = await bk.start();
      const host = await SparkplugHost.start(broker.url);
      try {
        await helper.load([endpointNode, sparkplugNode], flow(broker.url));
        const sp = helper.getNode('sp');
        const reports: any[] = [];
        helper.getNode('watch').on('input', (m: any) => reports.push(m.delivery));
        // before the host has a birth no reading is sent: the first input waits for the NBIRTH
        await waitFor(() => host.log.some((m) => m.type === 'NBIRTH'), 'NBIRTH');
        for (let i = 0; i < 300; i++) sp.receive({ payload: reading('TEMP-1', i, i, i === 5 ? { quality: 'bad' } : {}) });
        sp.receive({ payload: [reading('PRES-2', 1.5, 1000, { measurement: 'pressure', unit: 'bar' }), reading('TEMP-1', 300, 300)] });
        sp.receive({ payload: { sensorId: 'TEMP-1', kind: 'hi', state: 'active', severity: 2, value: 99, ts: T0 + 2000, message: 'high' } });
        await waitFor(() => reports.length === 302, '302 reports', 20000);
        assert.ok(reports.every((d) => d.ok === true), JSON.stringify(reports.find((d) => !d.ok)));
        await waitFor(() => host.data('line-1', 'TEMP-1').length === 301 && host.data('alarms', 'TEMP-1/hi').length === 1, 'all values at the host');
        const types = host.types();
        assert.strictEqual(types[0], 'NBIRTH');
        assert.strictEqual(types[1], 'DBIRTH:line-1', 'a DBIRTH for the new device before its first DDATA');
        assert.strictEqual(types[2], 'DDATA:line-1');
        // PRES-2 is a new metric of line-1: a new DBIRTH with both metrics before the DDATA that carries it
        const second = types.indexOf('DBIRTH:line-1', 2);
        assert.ok(second > 2, types.join(','));
        const birth2 = host.log[second];
        assert.deepStrictEqual(birth2.metrics.map((m) => m.name).sort(), ['PRES-2/pressure', 'TEMP-1']);
        assert.ok(types.indexOf('DBIRTH:alarms') < types.indexOf('DDATA:alarms'));
        assert.deepStrictEqual(host.violations, []);
        const temps = host.data('line-1', 'TEMP-1');
        assert.deepStrictEqual(temps.map((m) => m.value), Array.from({ length: 301 }, (_, i) => i), 'aliases resolve to every value in order');
        assert.deepStrictEqual(temps.map((m) => m.ts), Array.from({ length: 301 }, (_, i) => T0 + i), 'metric timestamps are the readings\' ts');
        assert.strictEqual(temps[5].quality, 0, 'bad quality travels as Quality 0');
        assert.strictEqual(temps[5].value, 5, 'a bad reading is not dropped');
        assert.strictEqual(temps[6].quality, undefined);
        assert.ok(temps.every((m) => !m.historical), 'live data is not historical');
        assert.strictEqual(host.data('alarms', 'TEMP-1/hi')[0].value, 'active');
        // 1 NBIRTH + 3 DBIRTH + 303 data messages: seq wrapped past 255 without a gap (checked by the host)
        assert.ok(host.log.filter((m) => m.type !== 'NDEATH').length > 256);

        // rebirth on command: NBIRTH (same bdSeq, seq 0) and every DBIRTH again
        const before = host.log.length;
        const bdSeq = host.log[0].bdSeq;
        await host.rebirth('plant', 'gw1');
        await waitFor(() => host.log.slice(before).filter((m) => m.type === 'DBIRTH').length === 2, 'rebirth');
        const again = host.log.slice(before);
        assert.deepStrictEqual(again.map((m) => m.type), ['NBIRTH', 'DBIRTH', 'DBIRTH']);
        assert.strictEqual(again[0].bdSeq, bdSeq);
        sp.receive({ payload: reading('TEMP-1', 777, 3000) });
        await waitFor(() => host.data('line-1', 'TEMP-1').some((m) => m.value === 777), 'data after the rebirth');
        assert.deepStrictEqual(host.violations, []);
        // a clean stop (redeploy) publishes the NDEATH itself: a DISCONNECT suppresses the will
        await helper.unload();
        await waitFor(() => host.log.some((m) => m.type === 'NDEATH'), 'NDEATH on close');
        assert.strictEqual(host.log.find((m) => m.type === 'NDEATH')?.bdSeq, bdSeq);
      } finally {
        await helper.unload();
        await host.stop();
        await broker.stop();
      }
    });
  });
}

for (const version of ['3.0', '2.2'] as const) {
  describeIf(brokerKinds[1].available, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')(`Sparkplug B primary host, STATE ${version}`, function () {
    this.timeout(90000);
    afterEach(async function () { await helper.unload(); });

    it('waits for the host (inputs answered ok:false, kept by the buffer); host outage → NDEATH, host return → NBIRTH, DBIRTH, then the backlog as historical; nothing lost', async function () {
      const broker = await startMosquitto();
      assert.ok(broker);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-spb-'));
      const host = await SparkplugHost.start(broker.url, 'scada', version, false);
      try {
        await helper.load([storeForwardNode, endpointNode, sparkplugNode], flow(broker.url, { hostId: 'scada', stateVersion: version }, true, dir));
        const sf = helper.getNode('sf');
        const reports: any[] = [];
        helper.getNode('watch').on('input', (m: any) => reports.push(m.delivery));
        let i = 0;
        const feed = (k: number) => { for (const end = i + k; i < end; i++) sf.receive({ payload: reading('TEMP-1', i, 0, { ts: Date.now() }) }); };
        // the helper's status spy is shared by the nodes of the flow: the last status of this node
        const ours = () => (helper.getNode('sp').status.args as any[][]).map((a) => a[0]).filter((x) => String(x.text).startsWith('genix-sparkplug-out.')).pop();
        // connected to the broker, the host not online yet (before that, reports say "not connected to the broker")
        await waitFor(() => ours()?.text === 'genix-sparkplug-out.status.waitingHost', 'status: waiting for the host');
        feed(20);
        await waitFor(() => reports.filter((d) => d.ok === false).length >= 1, 'ok:false while the host is offline');
        assert.ok(reports.every((d) => !d.ok && !d.permanent && /waiting for primary host "scada".*Sparkplug/.test(d.error)), JSON.stringify(reports[0]));
        assert.ok(reports[0].error.includes(version === '2.2' ? 'STATE/scada' : 'spBv1.0/STATE/scada'));
        assert.strictEqual(host.log.length, 0, 'nothing published before the host is online');
        assert.ok(sf.buffer.backlog > 0);

        await host.setOnline(true);
        await waitFor(() => sf.buffer.backlog === 0 && host.data('line-1', 'TEMP-1').length >= 20, 'backlog delivered after the host came online', 30000, 50);
        const first = host.types();
        assert.strictEqual(first[0], 'NBIRTH');
        assert.ok(host.data('line-1', 'TEMP-1').slice(0, 20).every((m) => m.historical), 'held readings are historical');
        feed(20);
        await waitFor(() => sf.buffer.backlog === 0 && host.data('line-1', 'TEMP-1').length >= 40, 'live readings', 30000, 50);
        assert.ok(host.data('line-1', 'TEMP-1').slice(-5).every((m) => !m.historical), 'live readings are not historical');

        // host outage: the node ends its session with an NDEATH and waits again
        const mark = host.log.length;
        await host.setOnline(false);
        await waitFor(() => host.log.slice(mark).some((m) => m.type === 'NDEATH'), 'NDEATH after the host left');
        feed(30);
        await waitFor(() => reports.filter((d) => d.ok === false).length > 20, 'refused while the host is away');
        const mark2 = host.log.length;
        await host.setOnline(true);
        await waitFor(() => sf.buffer.backlog === 0, 'backlog drained after the host returned', 30000, 50);
        const after = host.log.slice(mark2);
        assert.strictEqual(after[0].type, 'NBIRTH', after.map((m) => m.type).join(','));
        assert.strictEqual(after[1].type, 'DBIRTH', 'every DBIRTH right after the NBIRTH, before data');
        const all = host.data('line-1', 'TEMP-1');
        const got = new Set(all.map((m) => m.value));
        assert.deepStrictEqual(Array.from({ length: i }, (_, k) => k).filter((k) => !got.has(k)), [], 'nothing lost');
        assert.ok(all.filter((m) => (m.value as number) >= 40).every((m) => m.historical), 'the backlog of the host outage is historical');
        assert.deepStrictEqual(host.violations, []);
      } finally {
        await helper.unload();
        await host.stop();
        await broker.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describeIf(brokerKinds[1].available, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')('Sparkplug B out, broker outage with store-and-forward in front', function () {
  this.timeout(90000);
  afterEach(async function () { await helper.unload(); });

  it('after the broker returns: NBIRTH, then DBIRTH, then the backlog flagged historical; nothing lost; seq without gaps', async function () {
    const broker = await startMosquitto();
    assert.ok(broker);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-spb-'));
    const host = await SparkplugHost.start(broker.url);
    try {
      await helper.load([storeForwardNode, endpointNode, sparkplugNode], flow(broker.url, {}, true, dir));
      const sf = helper.getNode('sf');
      const reports: any[] = [];
      helper.getNode('watch').on('input', (m: any) => reports.push(m.delivery));
      await waitFor(() => host.log.some((m) => m.type === 'NBIRTH'), 'NBIRTH');
      let i = 0;
      const feed = (k: number) => { for (const end = i + k; i < end; i++) sf.receive({ payload: reading('TEMP-1', i, 0, { ts: Date.now() }) }); };
      feed(50);
      await waitFor(() => sf.buffer.backlog === 0 && host.data('line-1', 'TEMP-1').length === 50, 'live readings delivered', 20000, 50);
      const bdSeq1 = host.log[0].bdSeq;
      await broker.stop();
      feed(100);
      await waitFor(() => reports.filter((d) => d.ok === false).length > 0, 'ok:false during the outage');
      assert.ok(sf.buffer.backlog > 0, 'the buffer keeps the outage\'s readings');
      const mark = host.log.length;
      await broker.restart();
      await waitFor(() => sf.buffer.backlog === 0, 'backlog drained after the broker returned', 40000, 50);
      await waitFor(() => new Set(host.data('line-1', 'TEMP-1').map((m) => m.value)).size === 150, 'all 150 readings at the host', 10000);
      const after = host.log.slice(mark).filter((m) => m.type !== 'NDEATH');
      assert.deepStrictEqual(after.slice(0, 2).map((m) => m.type), ['NBIRTH', 'DBIRTH'], after.map((m) => m.type).slice(0, 5).join(','));
      assert.notStrictEqual(after[0].bdSeq, bdSeq1, 'a new session has a new bdSeq');
      const replayed = host.data('line-1', 'TEMP-1').filter((m) => (m.value as number) >= 50);
      assert.ok(replayed.length >= 100 && replayed.every((m) => m.historical), 'the outage backlog is historical');
      assert.deepStrictEqual(host.violations, []);
      // live again
      feed(5);
      await waitFor(() => host.data('line-1', 'TEMP-1').some((m) => m.value === 154), 'live after replay');
      assert.strictEqual(host.data('line-1', 'TEMP-1').find((m) => m.value === 154)?.historical, false);
    } finally {
      await helper.unload();
      await host.stop();
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gateway killed (SIGKILL of a child Node-RED): the broker publishes its NDEATH with the bdSeq of its NBIRTH', async function () {
    const broker = await startMosquitto();
    assert.ok(broker);
    const host = await SparkplugHost.start(broker.url);
    const { startRedProcess } = await import('../helpers/red-process');
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-spb-red-'));
    const red = await startRedProcess({ userDir, flows: [
      { id: 't1', type: 'tab', label: 'spb' },
      { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url },
      { id: 'sp', type: 'genix-sparkplug-out', z: 't1', endpoint: 'ep', group: 'plant', edgeNode: 'killed', wires: [[]] },
    ] });
    try {
      await waitFor(() => host.log.some((m) => m.type === 'NBIRTH' && m.edgeNode === 'killed'), 'NBIRTH of the child', 20000);
      const birth = host.log.find((m) => m.type === 'NBIRTH' && m.edgeNode === 'killed');
      assert.strictEqual(host.log.some((m) => m.type === 'NDEATH'), false);
      await red.kill('SIGKILL');
      await waitFor(() => host.log.some((m) => m.type === 'NDEATH' && m.edgeNode === 'killed'), 'NDEATH (last will)', 20000);
      const death = host.log.find((m) => m.type === 'NDEATH' && m.edgeNode === 'killed');
      assert.strictEqual(death?.bdSeq, birth?.bdSeq);
    } finally {
      await red.kill('SIGKILL').catch(() => undefined);
      await host.stop();
      await broker.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});

describeIf(brokerKinds[1].available, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')('Sparkplug B out, credentials from the cloud endpoint', function () {
  this.timeout(60000);
  afterEach(async function () { await helper.unload(); });

  it('connects with the endpoint\'s user and password; a wrong password publishes nothing and answers ok:false', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-spb-auth-'));
    const pw = path.join(dir, 'passwd');
    fs.writeFileSync(pw, '');
    execFileSync('mosquitto_passwd', ['-b', pw, 'gateway', 's3cret-pass']);
    // Mosquitto started as root drops to its own user, which must be able to read the file
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(pw, 0o644);
    // anonymous clients (the test host) stay allowed; a client that gives credentials must give right ones
    const broker = await startMosquitto(undefined, `password_file ${pw}`);
    assert.ok(broker);
    const host = await SparkplugHost.start(broker.url);
    try {
      await helper.load([endpointNode, sparkplugNode], flow(broker.url, { edgeNode: 'wrong' }), { ep: { username: 'gateway', password: 'not-it' } });
      const reports: any[] = [];
      helper.getNode('watch').on('input', (m: any) => reports.push(m.delivery));
      helper.getNode('sp').receive({ payload: reading('TEMP-1', 1, 1) });
      await waitFor(() => reports.length === 1, 'an answer');
      assert.strictEqual(reports[0].ok, false);
      assert.ok(!reports[0].permanent);
      await helper.unload();
      await helper.load([endpointNode, sparkplugNode], flow(broker.url, { edgeNode: 'right' }), { ep: { username: 'gateway', password: 's3cret-pass' } });
      await waitFor(() => host.log.some((m) => m.type === 'NBIRTH' && m.edgeNode === 'right'), 'NBIRTH with the right password');
      assert.ok(!host.log.some((m) => m.edgeNode === 'wrong'), 'nothing from the refused connection');
    } finally {
      await helper.unload();
      await host.stop();
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
