// The whole gateway against the stock-node-only flow a user would build (mqtt in → function
// normalize → switch thresholds → mqtt out QoS 1), side by side, and against a bare mqtt.js bridge
// (subscribe → publish QoS 1, no processing: the limit), measured first. Sensors publish here at a
// fixed rate to one Mosquitto; each gateway runs in its own process (bench/gateway-child.ts prints
// its CPU and RSS); a consumer on the cloud Mosquitto takes the latency from each reading's own
// timestamp to its delivery, for readings only (alarm topics are left out): readings stamped within
// the measuring window that arrive by 2 s after it. Readings per core =
// delivered readings/s ÷ the gateway's CPU share: the rate one full core would carry at this load.
// GENIX_BENCH_QUICK=1: 10 lines × 50 sensors @ 10 Hz for 10 s; else 20 × 50 for 60 s.
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import mqtt from 'mqtt';
import os from 'os';
import path from 'path';
import { main, BenchResult, newReadings } from './lib';
import { freePort } from '../scripts/plant/net';
import { startMosquittoProcess } from '../scripts/plant/mosquitto';
import { PlantSignals } from '../scripts/plant/signals';
import { buildDemoFlow } from '../scripts/demo-flow';
import { QUICK, RUNS, alternate, sideBySide, versionOf, median, Leg, Sample } from './peers/harness';

const LINES = QUICK ? 10 : 20;
const PER_LINE = 50;
const RATE_MS = 100;
const WARM_S = QUICK ? 4 : 10;
const MEASURE_S = QUICK ? 10 : 60;
const HI = 60;
/** how long after the window a reading of the window may still arrive and count */
const GRACE_MS = 2000;

/** The stock flow: what a user builds from Node-RED's own nodes. */
function stockFlow(sensorUrl: string, cloudUrl: string): object[] {
  const broker = (id: string, url: string) => { const u = new URL(url); return { id, type: 'mqtt-broker', broker: u.hostname, port: u.port, clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true, birthTopic: '', closeTopic: '', willTopic: '' }; };
  const normalize = [
    'const b = JSON.parse(msg.payload);',
    'const kind = Object.keys(b).find((k) => k !== "sensor_id" && k !== "timestamp");',
    'const v = Number(b[kind]);',
    'if (!Number.isFinite(v)) { node.warn("bad reading " + msg.payload); return null; }',
    'msg.payload = { sensorId: b.sensor_id, value: v, ts: b.timestamp, quality: "good", measurement: kind, plantId: "demo-plant" };',
    'msg.topic = "plant/demo-plant/line/" + b.sensor_id;',
    'return msg;',
  ].join('\n');
  return [
    { id: 'tab', type: 'tab', label: 'stock' },
    broker('sb', sensorUrl), broker('cb', cloudUrl),
    { id: 'in', z: 'tab', type: 'mqtt in', topic: 'sensors/+/data', qos: '0', datatype: 'utf8', broker: 'sb', nl: false, rap: true, rh: 0, inputs: 0, wires: [['norm']] },
    { id: 'norm', z: 'tab', type: 'function', func: normalize, outputs: 1, wires: [['sw']] },
    { id: 'sw', z: 'tab', type: 'switch', property: 'payload.value', propertyType: 'msg', rules: [{ t: 'nnull' }, { t: 'gt', v: String(HI), vt: 'num' }], checkall: 'true', repair: false, outputs: 2, wires: [['out'], ['alarm']] },
    { id: 'alarm', z: 'tab', type: 'change', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'plant/demo-plant/alarms/threshold', tot: 'str' }], wires: [['out']] },
    { id: 'out', z: 'tab', type: 'mqtt out', topic: '', qos: '1', retain: 'false', broker: 'cb', wires: [] },
  ];
}

/** The limit: a bare mqtt.js bridge, printing the same CPU/RSS lines as bench/gateway-child.ts. */
async function bridgeChild(): Promise<void> {
  const [sensorUrl, cloudUrl] = process.argv.slice(3);
  const cloud = await mqtt.connectAsync(cloudUrl, { clientId: 'bench-bridge-out' });
  const sensors = await mqtt.connectAsync(sensorUrl, { clientId: 'bench-bridge-in' });
  sensors.on('message', (_t, payload) => {
    const b = JSON.parse(payload.toString());
    cloud.publish(`plant/demo-plant/line/${b.sensor_id}`, JSON.stringify({ sensorId: b.sensor_id, ts: b.timestamp }), { qos: 1 });
  });
  await sensors.subscribeAsync('sensors/+/data', { qos: 0 });
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
  setInterval(() => {
    const c = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuUs: c.user + c.system, rss: process.memoryUsage().rss })}\n`);
  }, 1000);
}

interface Brokers { sensorUrl: string; cloudUrl: string }

async function oneRun(kind: 'bare' | 'ours' | 'stock', b: Brokers): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-peer-gw-'));
  let child: ChildProcess;
  if (kind === 'bare') child = spawn(process.execPath, [__filename, 'bridge', b.sensorUrl, b.cloudUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  else {
    const flows = kind === 'stock' ? stockFlow(b.sensorUrl, b.cloudUrl) : buildDemoFlow({
      types: new Set(['genix-normalizer', 'genix-anomaly', 'genix-store-forward', 'genix-cloud-endpoint', 'genix-cloud-publisher']),
      sensorBrokerUrl: b.sensorUrl, cloudBrokerUrl: b.cloudUrl, opcuaEndpointUrl: null, lines: LINES, rateMs: RATE_MS, dashboard: false,
    });
    const flowFile = path.join(dir, 'flows-in.json');
    fs.writeFileSync(flowFile, JSON.stringify(flows));
    child = spawn(process.execPath, [path.join(__dirname, 'gateway-child.js'), flowFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  }
  const samples: Array<{ t: number; cpuUs: number; rss: number }> = [];
  let started = false;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      try { const j = JSON.parse(buf.slice(0, i)); if (j.started) started = true; else if (j.cpuUs !== undefined) samples.push(j); } catch { /* a log line */ }
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  const consumer = await mqtt.connectAsync(b.cloudUrl, { clientId: `bench-consumer-${kind}-${Date.now()}` });
  const pub = await mqtt.connectAsync(b.sensorUrl, { clientId: `bench-sensors-${kind}-${Date.now()}` });
  try {
    const t0 = Date.now();
    while (!started) {
      if (child.exitCode !== null || Date.now() - t0 > 60000) throw new Error(`${kind} gateway did not start (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500)); // subscriptions in place
    // a reading counts when its own timestamp falls in the window [from, to) and it arrives by to + GRACE_MS
    const lat: number[] = [];
    let delivered = 0;
    let from = Infinity;
    let to = Infinity;
    const seen = new Set<string>();
    consumer.on('message', (topic, payload) => {
      if (topic.includes('/alarms/')) return;
      const now = Date.now();
      for (const r of newReadings(payload, seen)) {
        if (r.ts >= from && r.ts < to && now <= to + GRACE_MS) { delivered++; lat.push(now - r.ts); }
      }
    });
    await consumer.subscribeAsync('plant/demo-plant/#', { qos: 1 });
    const signals = new PlantSignals({ sensors: LINES * PER_LINE, rateMs: RATE_MS, seed: 3, faults: 'default' });
    const topics = signals.sensors.map((s) => `sensors/${s.sensorId}/data`);
    let published = 0;
    const timer = setInterval(() => {
      const ts = Date.now();
      for (let i = 0; i < signals.sensors.length; i++) {
        const v = signals.sample(i, ts);
        if (v === undefined) continue;
        const s = signals.sensors[i];
        pub.publish(topics[i], `{"sensor_id":"${s.sensorId}","${s.measurement}":${v},"timestamp":${ts}}`, { qos: 0 });
        published++;
      }
    }, RATE_MS);
    await new Promise((r) => setTimeout(r, WARM_S * 1000));
    const c0 = samples[samples.length - 1];
    const p0 = published;
    from = Date.now();
    await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
    to = Date.now();
    const c1 = samples[samples.length - 1];
    const wall = (to - from) / 1000;
    const offered = (published - p0) / wall;
    await new Promise((r) => setTimeout(r, GRACE_MS));
    clearInterval(timer);
    const rate = delivered / wall;
    const cpu = (c1.cpuUs - c0.cpuUs) / 1e6 / ((c1.t - c0.t) / 1000);
    lat.sort((x, y) => x - y);
    const p99 = lat.length ? lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))] : NaN;
    return { offeredPerS: offered, deliveredPerS: rate, cpuPct: cpu * 100, perCore: rate / Math.max(cpu, 1e-6), p99Ms: p99, p50Ms: lat.length ? median(lat) : NaN, rssMb: Math.max(...samples.map((s) => s.rss)) / 1048576 };
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
    await consumer.endAsync(true);
    await pub.endAsync(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function run(): Promise<BenchResult[]> {
  const sensor = await startMosquittoProcess(await freePort());
  const cloud = await startMosquittoProcess(await freePort());
  if (!sensor || !cloud) throw new Error('Mosquitto is not installed (apt-get install mosquitto)');
  try {
    const b: Brokers = { sensorUrl: sensor.url, cloudUrl: cloud.url };
    const legs: Leg[] = [
      { who: 'bare mqtt.js bridge, QoS 1, no processing', role: 'limit', version: versionOf('mqtt'), run: () => oneRun('bare', b) },
      { who: 'genix gateway (normalizer → anomaly → store-forward ⇄ cloud publisher)', role: 'ours', run: () => oneRun('ours', b) },
      { who: 'stock nodes: mqtt in → function → switch → mqtt out QoS 1 (no buffer)', role: 'peer', version: `node-red ${versionOf('node-red')}`, run: () => oneRun('stock', b) },
    ];
    process.stdout.write(`${LINES * PER_LINE} sensors @ ${1000 / RATE_MS} Hz, ${RUNS} rounds\n`);
    const res = await alternate(legs);
    const row = `whole gateway, ${(LINES * PER_LINE * 1000 / RATE_MS).toLocaleString('en-US')} readings/s offered`;
    const results: BenchResult[] = [];
    for (const [key, metric, unit, better] of [
      ['deliveredPerS', 'readings/s delivered (readings only)', 'readings/s', 'higher'],
      ['perCore', 'readings/s per core of gateway CPU', 'readings/s', 'higher'],
      ['cpuPct', 'gateway CPU', '% of a core', 'lower'],
      ['p99Ms', 'p99 latency, reading ts → broker delivery', 'ms', 'lower'],
      ['rssMb', 'gateway RSS (max)', 'MB', 'lower'],
    ] as const) {
      const side = sideBySide(row, metric, unit, better, legs, res, key);
      results.push({ name: `${row}: ${metric}`, value: side.figures[1].median ?? NaN, unit, side });
    }
    return results;
  } finally {
    await sensor.stop();
    await cloud.stop();
  }
}

if (process.argv[2] === 'bridge') void bridgeChild();
else main(run);
