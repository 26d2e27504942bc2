// genix-opcua-endpoint + genix-opcua-poller in the real Node-RED runtime against the simulated plant.
import assert from 'assert';
import helper from 'node-red-node-test-helper';
import { startPlant, tempUserDir, usePlantAndRuntime } from '../helpers/opcua';
import { waitFor } from '../helpers/wait';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');

interface Recorder { msgs: any[]; statuses: any[]; errors: any[] }

function record(pollerId: string, outId: string): Recorder {
  const r: Recorder = { msgs: [], statuses: [], errors: [] };
  helper.getNode(outId).on('input', (msg: any) => r.msgs.push(msg));
  const p = helper.getNode(pollerId);
  p.on('call:status', (c: any) => r.statuses.push(c.args[0]));
  p.on('call:error', (c: any) => r.errors.push(c.args));
  return r;
}

const readings = (r: Recorder): any[] => r.msgs.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]));

describe('genix-opcua nodes', function () {
  this.timeout(60000);
  const fixture = usePlantAndRuntime();
  const endpoint = fixture.endpoint;

  it('subscribes and sends one reading per change, shaped per DESIGN.md, with a truthful status', async () => {
    await helper.load([endpointNode, pollerNode], [
      endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each',
        items: [{ nodeId: 'ns=2;i=1001', sensorId: 'TEMP-L1', unit: 'degC' }, { nodeId: 'ns=2;i=1002', unit: 'bar' }], wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const r = record('p1', 'out');
    await waitFor(() => readings(r).filter((x) => x.sensorId === 'TEMP-L1').length >= 5, 'five temperature readings', 10000);
    const t = readings(r).find((x) => x.sensorId === 'TEMP-L1');
    assert.strictEqual(typeof t.value, 'number');
    assert.strictEqual(t.quality, 'good');
    assert.strictEqual(t.statusCode, 'Good');
    assert.strictEqual(t.unit, 'degC');
    assert.ok(Math.abs(t.ts - Date.now()) < 10000, 'ts is the source time');
    const m = r.msgs.find((x) => x.payload.sensorId === 'TEMP-L1');
    assert.strictEqual(m.topic, 'TEMP-L1');
    assert.ok(readings(r).some((x) => x.sensorId === 'ns=2;i=1002' && x.unit === 'bar'), 'sensorId defaults to the nodeId');
    await waitFor(() => r.statuses.some((s) => /status\.connected/.test(s.text) && s.fill === 'green'), 'green connected status');
    assert.strictEqual(fixture.plant().sessionCount(), 1);
  });

  it('polls every intervalMs, time-aligned, and sends one array per cycle in batch mode', async () => {
    await helper.load([endpointNode, pollerNode], [
      endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'poll', intervalMs: 200, output: 'batch',
        items: [{ nodeId: 'ns=2;i=1001' }, { nodeId: 'ns=2;i=1005', sensorId: 'RUN-L1' }, { nodeId: 'nsu=urn:genix:plant;i=1002' }], wires: [['out'], ['stats']] },
      { id: 'out', type: 'helper' },
      { id: 'stats', type: 'helper' },
    ]);
    const r = record('p1', 'out');
    await waitFor(() => r.msgs.length >= 6, 'six poll cycles', 10000);
    for (const m of r.msgs) {
      assert.ok(Array.isArray(m.payload));
      assert.strictEqual(m.payload.length, 3);
    }
    const run = r.msgs[0].payload.find((x: any) => x.sensorId === 'RUN-L1');
    assert.strictEqual(typeof run.value, 'boolean');
    // cycles start on multiples of 200 ms: the source timestamps read are about 200 ms apart
    // (0 when the simulated server itself skipped an update between two reads)
    const gaps = r.msgs.slice(1).map((m, k) => m.payload[0].ts - r.msgs[k].payload[0].ts);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
    assert.ok(median >= 150 && median <= 300 && gaps.every((g) => g >= 0 && g <= 600), `poll gaps ${gaps}`);
    const p = helper.getNode('p1');
    const stats: any[] = [];
    helper.getNode('stats').on('input', (msg: any) => stats.push(msg));
    const dataBefore = r.msgs.length;
    p.receive({ payload: 'stats', _ctx: 'dashboard' });
    const answer = await waitFor(() => stats[0], 'stats answer on output 2');
    assert.strictEqual(answer.topic, 'stats');
    assert.strictEqual(answer._ctx, 'dashboard', 'the input message\'s properties are kept');
    await waitFor(() => r.msgs.length >= dataBefore + 2, 'more poll cycles');
    assert.ok(r.msgs.every((m) => Array.isArray(m.payload) && m.topic !== 'stats'), 'the data output carries readings only');
    const st = answer.payload;
    assert.strictEqual(st.items, 3);
    assert.strictEqual(st.endpoint.state, 'connected');
  });

  it('reports bad NodeIds by name and keeps reading the good ones', async () => {
    await helper.load([endpointNode, pollerNode], [
      endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each',
        items: [{ nodeId: 'ns=2;i=1001', sensorId: 'GOOD' }, { nodeId: 'bogus', sensorId: 'SYNTAX' }, { nodeId: 'ns=2;i=999999', sensorId: 'UNKNOWN' },
          { nodeId: 'nsu=urn:nowhere;i=1', sensorId: 'NOURI' }], wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const r = record('p1', 'out');
    await waitFor(() => readings(r).some((x) => x.sensorId === 'GOOD'), 'good item readings');
    const rejected = await waitFor(() => r.errors.find((a) => a[0] === 'genix-opcua-poller.errors.rejected' && a[1]?.payload?.length === 3), 'rejected items error', 10000);
    const names = rejected[1].payload.map((e: any) => e.sensorId).sort();
    assert.deepStrictEqual(names, ['NOURI', 'SYNTAX', 'UNKNOWN']);
    assert.ok(/BadNodeIdUnknown/.test(rejected[1].payload.find((e: any) => e.sensorId === 'UNKNOWN').error));
    assert.ok(!readings(r).some((x) => x.sensorId === 'SYNTAX'));
    await waitFor(() => r.statuses.some((s) => /status\.connected/.test(s.text) && s.fill === 'yellow'), 'yellow status for rejected items');
  });

  it('shares one session between pollers and holds exactly one after 50 redeploys', async function () {
    this.timeout(120000);
    const flow = [
      endpoint(),
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each', items: [{ nodeId: 'ns=2;i=1001' }], wires: [['out']] },
      { id: 'p2', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'poll', intervalMs: 100, output: 'batch', items: [{ nodeId: 'ns=2;i=2001' }], wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([endpointNode, pollerNode], flow);
    await waitFor(() => fixture.plant().sessionCount() === 1 && helper.getNode('ep')?.manager.status.state === 'connected', 'first session');
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow, 'full');
      await waitFor(() => helper.getNode('ep')?.manager.status.state === 'connected', `connected after redeploy ${i + 1}`);
    }
    let got = 0;
    helper.getNode('out').on('input', () => got++);
    await waitFor(() => got > 5, 'readings after 50 redeploys');
    await waitFor(() => fixture.plant().sessionCount() === 1, `exactly one session (server holds ${fixture.plant().sessionCount()})`, 5000);
  });

  it('browses the address space through the admin endpoint before deploy', async () => {
    await helper.load([endpointNode, pollerNode], []);
    const cfg = { endpointUrl: fixture.plant().endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous' };
    const root = await helper.request().post('/genix/opcua/browse').send({ config: cfg }).expect(200);
    const plantFolder = root.body.children.find((c: any) => c.browseName === 'Plant');
    assert.ok(plantFolder, 'Objects holds Plant');
    const lines = await helper.request().post('/genix/opcua/browse').send({ config: cfg, nodeId: plantFolder.nodeId }).expect(200);
    const line1 = lines.body.children.find((c: any) => c.browseName === 'Line1');
    const tags = await helper.request().post('/genix/opcua/browse').send({ config: cfg, nodeId: line1.nodeId }).expect(200);
    const temp = tags.body.children.find((c: any) => c.browseName === 'Line1.Temperature');
    assert.strictEqual(temp.nodeId, 'ns=2;i=1001');
    assert.strictEqual(temp.nodeClass, 'Variable');
    await helper.request().post('/genix/opcua/browse').send({ config: { endpointUrl: 'http://nope' } }).expect(400);
    assert.strictEqual(fixture.plant().sessionCount(), 0, 'the browse session is closed');
  });

  it('rejects an unknown server certificate, says how to trust it, and connects once trusted (SignAndEncrypt, Basic256Sha256, username)', async function () {
    this.timeout(120000);
    const secure = await startPlant({ users: [{ username: 'operator', password: 's3cret' }], allowAnonymous: false, securityModes: ['None', 'SignAndEncrypt'], securityPolicies: ['None', 'Basic256Sha256'] });
    try {
      const userDir2 = tempUserDir();
      helper.settings({ userDir: userDir2 });
      // RSA work on a loaded machine can take seconds: a request timeout shorter than that would
      // abandon sessions the server still creates, and leave extra sessions behind
      const ep = { ...endpoint(), endpointUrl: secure.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authType: 'username', requestTimeoutMs: 15000 };
      await helper.load([endpointNode, pollerNode], [
        ep,
        { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [['out']] },
        { id: 'out', type: 'helper' },
      ], { ep: { username: 'operator', password: 's3cret' } });
      const r = record('p1', 'out');
      const epErrors: any[] = [];
      helper.getNode('ep').on('call:error', (c: any) => epErrors.push(c.args[0]));
      // the first connect in a fresh user directory also creates the client's key and certificate
      await waitFor(() => r.statuses.some((s) => s.text === 'genix-opcua-poller.status.untrusted'), 'untrusted status', 40000);
      await waitFor(() => epErrors.includes('genix-opcua-endpoint.errors.untrusted'), 'error that says how to trust');
      assert.strictEqual(readings(r).filter((x) => x.quality === 'good').length, 0, 'no data from an untrusted server');

      const cfg = { endpointUrl: secure.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authType: 'username' };
      const shown = await helper.request().post('/genix/opcua/server-certificate').send({ endpoint: 'ep', config: cfg }).expect(200);
      assert.match(shown.body.thumbprint, /^[0-9a-f]{40}$/);
      assert.notStrictEqual(shown.body.status, 'trusted');
      await helper.request().post('/genix/opcua/trust').send({ endpoint: 'ep', config: cfg, thumbprint: '0'.repeat(40) }).expect(409);
      const trusted = await helper.request().post('/genix/opcua/trust').send({ endpoint: 'ep', config: cfg, thumbprint: shown.body.thumbprint }).expect(200);
      assert.strictEqual(trusted.body.status, 'trusted');
      await waitFor(() => readings(r).some((x) => x.sensorId === 'T' && x.quality === 'good'), 'readings over SignAndEncrypt after trust', 40000);
      const again = await helper.request().post('/genix/opcua/server-certificate').send({ endpoint: 'ep', config: cfg }).expect(200);
      assert.strictEqual(again.body.status, 'trusted');
      // a session given up by a slow attempt lingers on the server until its timeout
      await waitFor(() => secure.sessionCount() === 1, 'exactly one session on the server', 20000);
    } finally {
      helper.settings({ userDir: fixture.userDir });
      await helper.unload();
      await secure.stop();
    }
  });

  it('refuses a wrong password with an auth status, and lab mode accepts any certificate', async () => {
    const secure = await startPlant({ users: [{ username: 'operator', password: 's3cret' }], allowAnonymous: false, securityModes: ['None', 'Sign'], securityPolicies: ['None', 'Aes128_Sha256_RsaOaep'] });
    try {
      const ep = { ...endpoint(), endpointUrl: secure.endpointUrl, securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep', authType: 'username', acceptUnknownCertificates: true };
      const flow = [
        ep,
        { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'poll', intervalMs: 100, output: 'each', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([endpointNode, pollerNode], flow, { ep: { username: 'operator', password: 'wrong' } });
      const r = record('p1', 'out');
      await waitFor(() => r.statuses.some((s) => s.text === 'genix-opcua-poller.status.authFailed'), 'auth failed status', 15000);
      await helper.unload();
      await helper.load([endpointNode, pollerNode], flow, { ep: { username: 'operator', password: 's3cret' } });
      const r2 = record('p1', 'out');
      await waitFor(() => readings(r2).some((x) => x.quality === 'good'), 'readings with accept-any', 15000);
    } finally {
      await helper.unload();
      await secure.stop();
    }
  });
});
