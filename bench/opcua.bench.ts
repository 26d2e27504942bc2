// One endpoint, 10,000 monitored items changing every 100 ms, batch output, through a real Node-RED
// runtime; compared with a bare node-opcua client reading the same server in the same run. The
// simulated PLC runs in a child process so that its CPU is not counted as ours.
// GENIX_OPCUA_BENCH_ITEMS (default 10000) and GENIX_OPCUA_BENCH_S (seconds per window, default 5).
import { fork, ChildProcess } from 'child_process';
import {
  OPCUAClient, ClientMonitoredItemGroup, AttributeIds, TimestampsToReturn, DataValue,
} from 'node-opcua-client';
import { main, BenchResult } from './lib';
import { freePort } from '../scripts/plant/net';
import { startRuntime } from './runtime';
import { startPlantOpcuaServer } from '../scripts/plant/opcua-server';

const ITEMS = Number(process.env.GENIX_OPCUA_BENCH_ITEMS || 10000);
const SECONDS = Number(process.env.GENIX_OPCUA_BENCH_S || 5);
const RATE_MS = 100;


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts values and gaps in each item's tick counter (a gap = a value the chain lost). */
class Counter {
  values = 0;
  gaps = 0;
  private last = new Map<string, number>();
  add(key: string, v: number): void {
    this.values++;
    const prev = this.last.get(key);
    if (prev !== undefined && v > prev + 1) this.gaps += v - prev - 1;
    this.last.set(key, v);
  }
  reset(): void { this.values = 0; this.gaps = 0; }
}

async function bareClient(endpointUrl: string, counter: Counter): Promise<() => Promise<void>> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, requestedSessionTimeout: 60000 });
  await client.connect(endpointUrl);
  const session = await client.createSession();
  const sub = await session.createSubscription2({ requestedPublishingInterval: RATE_MS, requestedMaxKeepAliveCount: 50, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  for (let off = 0; off < ITEMS; off += 1000) {
    const ids = Array.from({ length: Math.min(1000, ITEMS - off) }, (_, k) => `ns=2;i=${100000 + off + k}`);
    const g = ClientMonitoredItemGroup.create(sub, ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })), { samplingInterval: RATE_MS, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    await new Promise<void>((resolve, reject) => { g.once('initialized', () => resolve()); g.once('err', (m: string) => reject(new Error(m))); });
    g.on('changed', (_mi: unknown, dv: DataValue, k: number) => counter.add(ids[k], dv.value.value as number));
  }
  return async () => { await session.close(); await client.disconnect(); };
}

async function window(counter: Counter): Promise<{ rate: number; cpu: number; rssMb: number; gaps: number }> {
  counter.reset();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let rss = 0;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    await sleep(250);
    rss = Math.max(rss, process.memoryUsage().rss);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  return { rate: counter.values / wall, cpu: (c.user + c.system) / 1e6 / wall, rssMb: rss / 1048576, gaps: counter.gaps };
}

async function runServerChild(): Promise<void> {
  const port = Number(process.argv[3]);
  const plant = await startPlantOpcuaServer({ port, lines: 2, extraItems: ITEMS, rateMs: RATE_MS });
  process.send?.({ endpointUrl: plant.endpointUrl });
  process.on('message', async () => { await plant.stop(); process.exit(0); });
}

async function run(): Promise<BenchResult[]> {
  const port = await freePort();
  const child: ChildProcess = fork(__filename, ['server', String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const endpointUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: any) => resolve(m.endpointUrl));
    child.once('exit', (code) => reject(new Error(`plant server exited with ${code}`)));
  });
  try {
    const ours = new Counter();
    const items = Array.from({ length: ITEMS }, (_, k) => ({ nodeId: `ns=2;i=${100000 + k}`, sensorId: `B${k}` }));
    const rt = await startRuntime([
      { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false },
      { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: RATE_MS, output: 'batch', queueSize: 10, items, wires: [['j1']] },
      { id: 'j1', type: 'junction', wires: [] },
    ]);
    let messages = 0;
    rt.node('j1').on('input', (msg: any) => {
      messages++;
      for (const r of msg.payload) if (r.quality === 'good') ours.add(r.sensorId, r.value);
    });
    const t0 = Date.now();
    while (ours.values < ITEMS && Date.now() - t0 < 60000) await sleep(100);
    const ready = Date.now() - t0;
    await sleep(2000);
    messages = 0;
    const o = await window(ours);
    const msgRate = messages / SECONDS;
    await rt.stop();
    // the bare client runs after ours, on the same server, so that neither gets a warmer server
    const bare = new Counter();
    const closeBare = await bareClient(endpointUrl, bare);
    await sleep(2000);
    const b = await window(bare);
    await closeBare();


    return [
      { name: `opcua poller: ${ITEMS} items @ ${RATE_MS} ms, batch`, value: o.rate, unit: 'values/s', target: `>= ${Math.round(0.8 * b.rate)}`, compare: `bare node-opcua client: ${Math.round(b.rate)} values/s (80% = target)` },
      { name: 'opcua poller: CPU (Node-RED process, server elsewhere)', value: o.cpu * 100, unit: '% of a core', target: '< 100', compare: `bare client: ${(b.cpu * 100).toFixed(1)} %` },
      { name: 'opcua poller: peak RSS', value: o.rssMb, unit: 'MB', target: '< 400', compare: `bare client process: ${b.rssMb.toFixed(0)} MB` },
      { name: 'opcua poller: values lost (counter gaps)', value: o.gaps, unit: 'values', compare: `bare client gaps: ${b.gaps}`, ok: o.gaps <= b.gaps },
      { name: 'opcua poller: messages per second (batch)', value: msgRate, unit: 'msg/s' },
      { name: 'opcua poller: all items delivering after deploy', value: ready, unit: 'ms' },
    ];
  } finally {
    child.send('stop');
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

if (process.argv[2] === 'server') void runServerChild();
else main(run);
