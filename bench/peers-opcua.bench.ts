// genix-opcua-poller against node-red-contrib-opcua (OpcUa-Client, subscribe action with the
// documented `multiple` items message) and a bare node-opcua-client subscription, side by side:
// one node-opcua server in its own process, each leg in its own process (CPU and RSS are that
// process's), the bare client first, legs alternating, RUNS times round.
// Sizes: 2,000 and 10,000 items at 100 ms (GENIX_BENCH_QUICK=1: 1,000 and 5,000, shorter windows).
import { fork, ChildProcess } from 'child_process';
import {
  OPCUAClient, ClientMonitoredItemGroup, AttributeIds, TimestampsToReturn, DataValue,
} from 'node-opcua-client';
import { main, BenchResult } from './lib';
import { freePort } from '../scripts/plant/net';
import { startRuntime } from './runtime';
import { startPlantOpcuaServer } from '../scripts/plant/opcua-server';
import { QUICK, ensurePeers, peerUserDir, runLeg, alternate, sideBySide, versionOf, gc, Leg, Sample } from './peers/harness';

const RATE_MS = 100;
const SIZES = QUICK ? [1000, 5000] : [2000, 10000];
const WARM_S = QUICK ? 2 : 3;
const WINDOW_S = QUICK ? 4 : 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const nodeId = (k: number) => `ns=2;i=${100000 + k}`;

interface LegParams { endpointUrl: string; items: number }

/** Counts values per second over the window, with this process's CPU share and peak RSS. */
async function measure(count: () => number, firstValueWithin = 60000): Promise<Sample> {
  const t0 = Date.now();
  while (count() === 0 && Date.now() - t0 < firstValueWithin) await sleep(50);
  if (count() === 0) throw new Error(`no value within ${firstValueWithin} ms`);
  const ready = Date.now() - t0;
  await sleep(WARM_S * 1000);
  const c0 = process.cpuUsage();
  const v0 = count();
  const h0 = process.hrtime.bigint();
  let rss = 0;
  const end = Date.now() + WINDOW_S * 1000;
  while (Date.now() < end) {
    await sleep(250);
    rss = Math.max(rss, process.memoryUsage().rss);
  }
  const wall = Number(process.hrtime.bigint() - h0) / 1e9;
  const c = process.cpuUsage(c0);
  return { valuesPerS: (count() - v0) / wall, cpuPct: ((c.user + c.system) / 1e6 / wall) * 100, rssMb: rss / 1048576, firstValueMs: ready };
}

async function legBare(p: LegParams): Promise<Sample> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, requestedSessionTimeout: 60000 });
  await client.connect(p.endpointUrl);
  const session = await client.createSession();
  const sub = await session.createSubscription2({ requestedPublishingInterval: RATE_MS, requestedMaxKeepAliveCount: 50, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  let values = 0;
  for (let off = 0; off < p.items; off += 1000) {
    const ids = Array.from({ length: Math.min(1000, p.items - off) }, (_, k) => nodeId(off + k));
    const g = ClientMonitoredItemGroup.create(sub, ids.map((n) => ({ nodeId: n, attributeId: AttributeIds.Value })), { samplingInterval: RATE_MS, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    await new Promise<void>((resolve, reject) => { g.once('initialized', () => resolve()); g.once('err', (m: string) => reject(new Error(m))); });
    g.on('changed', (_mi: unknown, dv: DataValue) => { if (typeof dv.value.value === 'number') values++; });
  }
  const s = await measure(() => values);
  await session.close();
  await client.disconnect();
  return s;
}

async function legOurs(p: LegParams): Promise<Sample> {
  const items = Array.from({ length: p.items }, (_, k) => ({ nodeId: nodeId(k), sensorId: `B${k}` }));
  const rt = await startRuntime([
    { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl: p.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false },
    { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: RATE_MS, output: 'batch', queueSize: 10, items, wires: [['j1']] },
    { id: 'j1', type: 'junction', wires: [] },
  ]);
  let values = 0;
  rt.node('j1').on('input', (msg: any) => { for (const r of msg.payload) if (r.quality === 'good') values++; });
  const s = await measure(() => values);
  await rt.stop();
  return s;
}

async function legPeer(p: LegParams): Promise<Sample> {
  const userDir = peerUserDir('node-red-contrib-opcua');
  const rt = await startRuntime([
    { id: 'tab', type: 'tab', label: 'peer' },
    { id: 'pep', type: 'OpcUa-Endpoint', endpoint: p.endpointUrl, secpol: 'None', secmode: 'None', none: true, login: false },
    { id: 'pc', z: 'tab', type: 'OpcUa-Client', endpoint: 'pep', action: 'subscribe', time: RATE_MS, timeUnit: 'ms', deadbandtype: 'a', deadbandvalue: 0, certificate: 'n', localfile: '', localkeyfile: '', securitymode: 'None', securitypolicy: 'None', useTransport: false, maxChunkCount: 1, maxMessageSize: 8192, receiveBufferSize: 8192, sendBufferSize: 8192, setstatusandtime: false, keepsessionalive: false, wires: [['pj'], [], []] },
    { id: 'pj', z: 'tab', type: 'junction', wires: [] },
    { id: 'ps', z: 'tab', type: 'status', scope: ['pc'], wires: [['psj']] },
    { id: 'psj', z: 'tab', type: 'junction', wires: [] },
  ], { userDir });
  let values = 0;
  let status = '';
  rt.node('pj').on('input', (msg: any) => { if (typeof msg.payload?.value?.value === 'number') values++; });
  rt.node('psj').on('input', (msg: any) => { status = String(msg.status?.text ?? ''); });
  // the node connects on deploy; subscribe once its session is up, with the documented `multiple` message
  const t0 = Date.now();
  while (!/session active|connected|keepalive|subscribed/i.test(status) && Date.now() - t0 < 30000) await sleep(50);
  await sleep(500);
  rt.node('pc').receive({ topic: 'multiple', interval: RATE_MS, payload: Array.from({ length: p.items }, (_, k) => ({ nodeId: nodeId(k), datatype: 'Double' })) });
  const s = await measure(() => values);
  await rt.stop();
  return s;
}

async function serverChild(): Promise<void> {
  const plant = await startPlantOpcuaServer({ port: Number(process.argv[3]), lines: 1, extraItems: Number(process.argv[4]), rateMs: RATE_MS });
  process.send?.({ endpointUrl: plant.endpointUrl });
  process.on('message', async () => { await plant.stop(); process.exit(0); });
}

async function run(): Promise<BenchResult[]> {
  const peers = ensurePeers();
  const peer = peers.find((x) => x.name === 'node-red-contrib-opcua')!;
  const port = await freePort();
  const server: ChildProcess = fork(__filename, ['server', String(port), String(Math.max(...SIZES))], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const endpointUrl = await new Promise<string>((resolve, reject) => {
    server.once('message', (m: any) => resolve(m.endpointUrl));
    server.once('exit', (code) => reject(new Error(`OPC-UA server exited with ${code}`)));
  });
  const results: BenchResult[] = [];
  try {
    for (const items of SIZES) {
      process.stdout.write(`${items} items @ ${RATE_MS} ms\n`);
      const p: LegParams = { endpointUrl, items };
      const legs: Leg[] = [
        { who: 'bare node-opcua-client subscription', role: 'limit', version: versionOf('node-opcua-client'), run: () => runLeg(__filename, 'bare', p) },
        { who: 'genix-opcua-poller (batch output)', role: 'ours', run: () => runLeg(__filename, 'ours', p) },
        { who: 'node-red-contrib-opcua OpcUa-Client, subscribe `multiple`', role: 'peer', version: peer.version, error: peer.error, run: () => runLeg(__filename, 'peer', p) },
      ];
      const res = await alternate(legs);
      const row = `genix-opcua-poller, ${items.toLocaleString('en-US')} items @ ${RATE_MS} ms`;
      for (const [key, metric, unit, better] of [['valuesPerS', 'values/s into the flow', 'values/s', 'higher'], ['cpuPct', 'CPU of the Node-RED process', '% of a core', 'lower'], ['rssMb', 'RSS', 'MB', 'lower']] as const) {
        const side = sideBySide(row, metric, unit, better, legs, res, key);
        results.push({ name: `${row}: ${metric}`, value: side.figures[1].median ?? NaN, unit, side });
      }
    }
  } finally {
    server.send('stop');
    await new Promise((r) => { server.once('exit', r); setTimeout(r, 5000); });
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  return results;
}

if (process.argv[2] === 'server') void serverChild();
else if (process.argv[2] === 'leg') {
  const legs: Record<string, (p: LegParams) => Promise<Sample>> = { bare: legBare, ours: legOurs, peer: legPeer };
  legs[process.argv[3]](JSON.parse(process.argv[4])).then((s) => { gc(); process.stdout.write(`${JSON.stringify(s)}\n`); process.exit(0); },
    (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exit(1); });
} else main(run);
