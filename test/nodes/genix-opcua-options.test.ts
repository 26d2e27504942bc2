// Poller and endpoint options against the simulated plant: deadband (absolute, percent of EURange),
// data-change trigger, poll overrun counting, X.509 user authentication over Aes256_Sha256_RsaPss.
import assert from 'assert';
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import helper from 'node-red-node-test-helper';
import { startPlant, tempUserDir, usePlantAndRuntime } from '../helpers/opcua';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';
import { openClientPki } from '../../nodes/lib/opcua/pki';

const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');

/** Readings per poller id, from wires to one helper node per poller. */
function collect(ids: string[]): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const id of ids) {
    out[id] = [];
    helper.getNode(`out-${id}`).on('input', (msg: any) => {
      out[id].push(...(Array.isArray(msg.payload) ? msg.payload : [msg.payload]));
    });
  }
  return out;
}

function poller(id: string, extra: object) {
  return [
    { id, type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'each', wires: [[`out-${id}`], [`stats-${id}`]], ...extra },
    { id: `out-${id}`, type: 'helper' },
    { id: `stats-${id}`, type: 'helper' },
  ];
}

async function statsOf(id: string): Promise<any> {
  const got: any[] = [];
  const h = (msg: any) => got.push(msg.payload);
  helper.getNode(`stats-${id}`).on('input', h);
  helper.getNode(id).receive({ payload: 'stats' });
  const st = await waitFor(() => got[0], 'stats answer');
  helper.getNode(`stats-${id}`).off('input', h);
  return st;
}

describe('genix-opcua options', function () {
  this.timeout(60000);
  const fixture = usePlantAndRuntime();
  const endpoint = fixture.endpoint;

  it('deadband: absolute in units, percent of the EURange, none; trigger "status" reports no value changes', async () => {
    // Line1.Temperature moves by up to ~0.5 degC per 100 ms; its EURange is 0..200, so 1 % is 2 degC
    const temp = [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }];
    await helper.load([endpointNode, pollerNode], [
      endpoint(),
      ...poller('all', { items: temp }),
      ...poller('abs', { items: temp, deadbandType: 'absolute', deadbandValue: 1 }),
      ...poller('pct', { items: [...temp, { nodeId: 'ns=2;i=1005', sensorId: 'RUN' }], deadbandType: 'percent', deadbandValue: 1 }),
      ...poller('sts', { items: temp, trigger: 'status' }),
    ]);
    const r = collect(['all', 'abs', 'pct', 'sts']);
    const errors: any[] = [];
    helper.getNode('pct').on('call:error', (c: any) => errors.push(c.args));
    await waitFor(() => r.abs.length >= 4 && r.pct.length >= 3 && r.all.length >= 40, `deadband readings (all ${r.all.length}, abs ${r.abs.length}, pct ${r.pct.length})`, 40000);
    const steps = (xs: any[]) => xs.slice(1).map((x, k) => Math.abs(x.value - xs[k].value));
    const all = steps(r.all);
    assert.ok(all.some((d) => d < 1), 'without deadband, small changes are reported');
    assert.ok(steps(r.abs).every((d) => d > 1), `absolute 1: every reported change exceeds 1 (${steps(r.abs)})`);
    assert.ok(steps(r.pct).every((d) => d > 2), `percent 1 of 0..200: every reported change exceeds 2 (${steps(r.pct)})`);
    assert.ok(r.abs.length * 3 < r.all.length, `deadband filters most changes (${r.abs.length} of ${r.all.length})`);
    // a boolean has no EURange: the server refuses a percent deadband on it, and says so by name
    const rejected = await waitFor(() => errors.find((a) => a[0] === 'genix-opcua-poller.errors.rejected'), 'percent deadband on a boolean rejected');
    assert.deepStrictEqual(rejected[1].payload.map((e: any) => e.sensorId), ['RUN']);
    assert.ok(!r.pct.some((x) => x.sensorId === 'RUN'));
    // trigger "status": at most the first value (it may arrive before the test's listener is attached
    // under load), then nothing while the status stays Good, though the value changed 40 times
    assert.ok(r.sts.length <= 1, `trigger status: ${r.sts.length} readings`);
    assert.ok(r.sts.every((x) => x.quality === 'good'));
  });

  describe('poll overrun', () => {
    let proxy: TcpProxy | undefined;
    afterEach(async () => { await helper.unload(); await proxy?.close(); proxy = undefined; });

    it('a read slower than intervalMs skips cycles, counts them, and reads never overlap', async () => {
      proxy = await startTcpProxy(fixture.plant().port);
      const url = fixture.plant().endpointUrl.replace(`:${fixture.plant().port}/`, `:${proxy.port}/`);
      await helper.load([endpointNode, pollerNode], [
        endpoint({ endpointUrl: url }),
        ...poller('p', { mode: 'poll', output: 'batch', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }, { nodeId: 'ns=2;i=1002', sensorId: 'P' }] }),
      ]);
      const batches: number[] = [];
      helper.getNode('out-p').on('input', () => { batches.push(Date.now()); });
      await waitFor(() => batches.length >= 10, 'fast poll cycles');
      const before = await statsOf('p');
      proxy.latency(350);
      const slowFrom = Date.now();
      // the first answers after the switch may still be fast ones; count from a settled point
      await waitFor(() => batches.filter((t) => t > slowFrom + 800).length >= 1, 'first slow cycle', 10000);
      const settled = batches.length;
      const settledStats = await statsOf('p');
      await waitFor(() => batches.length >= settled + 6, 'six slow cycles', 20000);
      const after = await statsOf('p');
      const slow = batches.slice(settled);
      const gaps = slow.slice(1).map((t, k) => t - slow[k]);
      assert.ok(gaps.every((g) => g >= 300), `one read at a time: answers ${gaps} ms apart, not every 100 ms`);
      const skipped = after.skippedCycles - settledStats.skippedCycles;
      const cycles = after.readings / 2 - settledStats.readings / 2;
      assert.ok(skipped >= cycles, `a 350 ms read at 100 ms skips at least one cycle per read (${skipped} skipped, ${cycles} read)`);
      // a pause of the loaded test machine may skip a fast cycle now and then, but not most of them
      assert.ok(before.skippedCycles * 2 < before.readings / 2, `few skips while reads are fast (${before.skippedCycles} skipped, ${before.readings / 2} read)`);
      assert.strictEqual(after.endpoint.state, 'connected');
    });
  });

  it('X.509 user authentication over SignAndEncrypt Aes256_Sha256_RsaPss; a key that does not match is refused', async () => {
    const secure = await startPlant({ allowAnonymous: false, securityModes: ['None', 'SignAndEncrypt'], securityPolicies: ['None', 'Aes256_Sha256_RsaPss'] });
    const tokens: any[] = [];
    secure.server.on('session_activated', (_s: any, token: any) => tokens.push(token));
    const dir = tempUserDir();
    const userPki = await openClientPki(path.join(dir, 'user-pki'), false);
    const otherPki = await openClientPki(path.join(dir, 'other-pki'), false);
    try {
      const userCert = path.join(dir, 'operator.pem');
      await userPki.manager.createSelfSignedCertificate({ applicationUri: 'urn:genix:test:operator', subject: '/CN=operator', dns: [], outputFile: userCert, startDate: new Date(), validity: 30 });
      const ep = endpoint({ endpointUrl: secure.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss', authType: 'certificate', acceptUnknownCertificates: true, requestTimeoutMs: 15000 });
      const flow = (key: string) => [{ ...ep, userCertificateFile: userCert, userPrivateKeyFile: key }, ...poller('p', { items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }] })];

      await helper.load([endpointNode, pollerNode], flow(otherPki.manager.privateKey));
      const statuses: string[] = [];
      helper.getNode('p').on('call:status', (c: any) => statuses.push(c.args[0].text));
      await waitFor(() => statuses.includes('genix-opcua-poller.status.authFailed'), 'auth failed with the wrong key', 30000);
      await helper.unload();

      await helper.load([endpointNode, pollerNode], flow(userPki.manager.privateKey));
      const r = collect(['p']);
      await waitFor(() => r.p.some((x) => x.quality === 'good'), 'readings with an X.509 user', 30000);
      const der = Buffer.from(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END/.exec(fs.readFileSync(userCert, 'utf8'))![1].replace(/\s+/g, ''), 'base64');
      const x509 = tokens.filter((t) => t?.certificateData);
      assert.ok(x509.length >= 1, `the server saw an X.509 identity token (${tokens.map((t) => t?.constructor?.name)})`);
      const sha = (b: Buffer) => crypto.createHash('sha1').update(b).digest('hex');
      assert.strictEqual(sha(Buffer.from(x509[x509.length - 1].certificateData)), sha(der), 'the token carries the configured user certificate');
      await waitFor(() => secure.sessionCount() === 1, 'one session on the server', 20000);
    } finally {
      await helper.unload();
      await userPki.dispose();
      await otherPki.dispose();
      await secure.stop();
    }
  });
});
