// genix-cloud-publisher against Node-RED's stock `mqtt out` node at QoS 1 and a bare mqtt.js client,
// side by side, to one Mosquitto started here: every leg keeps the same number of publishes
// unanswered (W), gets the same warm-up, runs in its own process; the bare client runs first.
// Acknowledged msg/s: for the bare client its publish callback (PUBACK); for genix the message on the
// publisher's output with msg.delivery.ok; for `mqtt out` a Complete node (the node calls done()
// after mqtt.js's publish callback; it has no output that could carry the outcome, and while it is
// disconnected it drops a message without calling done() or raising an error).
import mqtt from 'mqtt';
import { main, BenchResult } from './lib';
import { freePort } from '../scripts/plant/net';
import { startMosquittoProcess } from '../scripts/plant/mosquitto';
import { startRuntime } from './runtime';
import { QUICK, ensurePeers, runLeg, alternate, sideBySide, versionOf, until, Leg, Sample } from './peers/harness';

const N = Number(process.env.GENIX_BENCH_N ?? (QUICK ? 20000 : 100000));
const WARM = QUICK ? 5000 : 10000;
const W = Number(process.env.GENIX_BENCH_WINDOW ?? 1000);

interface LegParams { url: string; port: number }

const reading = (i: number) => ({ sensorId: `TEMP-${i % 100}`, value: i * 0.1, ts: 1686000000000 + i, quality: 'good', unit: 'degC', plantId: 'plant-1', lineId: 'line-1' });

/** Keeps up to W inputs unanswered; resolves with answered msg/s. */
async function slide(send: (i: number) => void, answered: () => number, total: number): Promise<number> {
  const base = answered();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let last = Date.now();
  let seen = base;
  while (answered() - base < total) {
    const room = Math.min(total - sent, W - (sent - (answered() - base)));
    for (let i = 0; i < room; i++) send(sent++);
    await new Promise((r) => setImmediate(r));
    if (answered() !== seen) { seen = answered(); last = Date.now(); }
    if (Date.now() - last > 30000) throw new Error(`stalled: ${answered() - base} of ${total} answered, none in 30 s`);
  }
  return total / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function timed(send: (i: number) => void, answered: () => number): Promise<Sample> {
  await slide(send, answered, WARM);
  const c0 = process.cpuUsage();
  const rate = await slide(send, answered, N);
  const c = process.cpuUsage(c0);
  return { ackedPerS: rate, cpuUsPerMsg: (c.user + c.system) / N, rssMb: process.memoryUsage().rss / 1048576 };
}

async function legBare(p: LegParams): Promise<Sample> {
  const c = await mqtt.connectAsync(p.url, { reconnectPeriod: 0 });
  let acked = 0;
  const s = await timed((i) => c.publish(`plants/plant-1/TEMP-${i % 100}`, JSON.stringify(reading(i)), { qos: 1 }, () => { acked++; }), () => acked);
  await c.endAsync();
  return s;
}

/** merge = false: one publish per message (like for like with the others); true: the node's default, merging waiting readings per topic. */
async function legOurs(p: LegParams, merge = false): Promise<Sample> {
  const rt = await startRuntime([
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: p.url, clientId: 'bench-ours', maxInFlight: W, stateTopic: '' },
    { id: 'pub', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'ep', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 50, batchMaxBytes: 131072, mergeWhenBusy: merge, wires: [['out']] },
    { id: 'out', type: 'junction', z: 'tab', wires: [] },
  ]);
  let ok = 0;
  let bad = 0;
  rt.node('out').on('input', (m: any) => { if (m.delivery?.ok) ok++; else bad++; });
  await until(() => rt.node('ep').transport.state === 'connected', 20000, 'genix-cloud-endpoint connected');
  const pub = rt.node('pub');
  const s = await timed((i) => pub.receive({ payload: reading(i), delivery: { buffer: 'b', ids: [i], attempt: 1 } }), () => ok + bad);
  await rt.stop();
  if (bad) throw new Error(`${bad} deliveries reported not ok`);
  return s;
}

async function legPeer(p: LegParams): Promise<Sample> {
  const rt = await startRuntime([
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'mb', type: 'mqtt-broker', name: '', broker: '127.0.0.1', port: String(p.port), clientid: 'bench-stock', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true, birthTopic: '', closeTopic: '', willTopic: '' },
    { id: 'mo', type: 'mqtt out', z: 'tab', topic: '', qos: '1', retain: 'false', broker: 'mb', wires: [] },
    { id: 'done', type: 'complete', z: 'tab', scope: ['mo'], uncaught: false, wires: [['cj']] },
    { id: 'cj', type: 'junction', z: 'tab', wires: [] },
    { id: 'st', type: 'status', z: 'tab', scope: ['mo'], wires: [['sj']] },
    { id: 'sj', type: 'junction', z: 'tab', wires: [] },
  ]);
  let acked = 0;
  let status = '';
  rt.node('cj').on('input', () => { acked++; });
  rt.node('sj').on('input', (m: any) => { status = String(m.status?.text ?? ''); });
  await until(() => /connected/.test(status) && !/disconnected|connecting/.test(status), 20000, `mqtt out connected (status "${status}")`);
  const mo = rt.node('mo');
  const s = await timed((i) => mo.receive({ topic: `plants/plant-1/TEMP-${i % 100}`, payload: reading(i) }), () => acked);
  await rt.stop();
  return s;
}

async function run(): Promise<BenchResult[]> {
  ensurePeers();
  const port = await freePort();
  const broker = await startMosquittoProcess(port);
  if (!broker) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  try {
    const p: LegParams = { url: broker.url, port };
    const legs: Leg[] = [
      { who: `bare mqtt.js, ${W} in flight`, role: 'limit', version: versionOf('mqtt'), run: () => runLeg(__filename, 'bare', p) },
      { who: `genix-cloud-publisher, ${W} in flight, one publish per message, delivery reported`, role: 'ours', run: () => runLeg(__filename, 'ours', p) },
      { who: `genix-cloud-publisher, ${W} in flight, default settings (merges waiting readings per topic), delivery reported`, role: 'ours', run: () => runLeg(__filename, 'merge', p) },
      { who: 'Node-RED stock `mqtt out` QoS 1 (cannot report delivery)', role: 'peer', version: `node-red ${versionOf('node-red')}`, run: () => runLeg(__filename, 'peer', p) },
    ];
    const res = await alternate(legs);
    const results: BenchResult[] = [];
    // one table row group per genix configuration, each against the same limit and peer runs
    for (const [ours, row] of [[legs[1], 'genix-cloud-publisher → Mosquitto, QoS 1, one reading per message, one publish each'], [legs[2], 'genix-cloud-publisher → Mosquitto, QoS 1, one reading per message, default settings']] as const) {
      const set = [legs[0], ours, legs[3]];
      for (const [key, metric, unit, better] of [['ackedPerS', 'acked msg/s', 'msg/s', 'higher'], ['cpuUsPerMsg', 'CPU per message', 'µs', 'lower']] as const) {
        const side = sideBySide(row, metric, unit, better, set, res, key);
        results.push({ name: `${row}: ${metric}`, value: side.figures[1].median ?? NaN, unit, side });
      }
    }
    return results;
  } finally {
    await broker.stop();
  }
}

if (process.argv[2] === 'leg') {
  const legs: Record<string, (p: LegParams) => Promise<Sample>> = { bare: legBare, ours: (p) => legOurs(p), merge: (p) => legOurs(p, true), peer: legPeer };
  legs[process.argv[3]](JSON.parse(process.argv[4])).then((s) => { process.stdout.write(`${JSON.stringify(s)}\n`); process.exit(0); },
    (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exit(1); });
} else main(run);
