// The plant scenario: 20 lines × 50 sensors × 10 Hz = 10,000 readings/s through the whole gateway
// (MQTT in → normalizer → anomaly → store-and-forward ⇄ cloud publisher) to a local Mosquitto,
// for GENIX_PLANT_BENCH_S seconds (default 300). The gateway runs in its own process so that its
// CPU and RSS are its own; the simulated sensors and the cloud consumer run here.
import { spawn } from 'child_process';
import fs from 'fs';
import mqtt from 'mqtt';
import os from 'os';
import path from 'path';
import { main, BenchResult, newReadings } from './lib';
import { freePort } from '../scripts/plant/net';
import { startMosquittoProcess } from '../scripts/plant/mosquitto';
import { PlantSignals } from '../scripts/plant/signals';
import { buildDemoFlow } from '../scripts/demo-flow';

const SECONDS = Number(process.env.GENIX_PLANT_BENCH_S || 300);
const LINES = 20;
const PER_LINE = 50;
const RATE_MS = 100;


function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

main(async (): Promise<BenchResult[]> => {
  // Both brokers are Mosquitto processes, as on a real gateway, so this process only plays the
  // sensors and the cloud consumer.
  const sensorBroker = await startMosquittoProcess(await freePort());
  const cloud = await startMosquittoProcess(await freePort());
  if (!cloud || !sensorBroker) throw new Error('Mosquitto is not installed (apt-get install mosquitto)');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-plant-bench-'));
  const flows = buildDemoFlow({
    types: new Set(['genix-normalizer', 'genix-anomaly', 'genix-store-forward', 'genix-cloud-endpoint', 'genix-cloud-publisher']),
    sensorBrokerUrl: sensorBroker.url,
    cloudBrokerUrl: cloud.url,
    opcuaEndpointUrl: null,
    lines: LINES,
    rateMs: RATE_MS,
    dashboard: false,
  });
  const flowFile = path.join(userDir, 'bench-flows.json');
  fs.writeFileSync(flowFile, JSON.stringify(flows));

  const child = spawn(process.execPath, [path.join(__dirname, 'gateway-child.js'), flowFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const samples: Array<{ t: number; cpuUs: number; rss: number }> = [];
  let started: () => void;
  const startedP = new Promise<void>((r) => { started = r; });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const j = JSON.parse(line);
        if (j.started) started();
        else if (j.cpuUs !== undefined) samples.push(j);
      } catch { /* a log line */ }
    }
  });
  await Promise.race([startedP, new Promise((_, rej) => child.once('exit', (c) => rej(new Error(`gateway exited with ${c}`))))]);

  // Cloud consumer: latency = arrival − the reading's source timestamp (set at publish time).
  const latencies = new Float64Array(SECONDS * 10000 * 2);
  let nLat = 0;
  const seen = new Set<string>();
  const consumer = await mqtt.connectAsync(cloud.url, { clientId: 'bench-cloud-consumer' });
  await consumer.subscribeAsync('plant/demo-plant/+/+', { qos: 1 });
  let measuring = false;
  consumer.on('message', (_t, payload) => {
    const now = Date.now();
    for (const r of newReadings(payload, seen)) {
      if (measuring && nLat < latencies.length) latencies[nLat++] = now - r.ts;
    }
  });

  const signals = new PlantSignals({ sensors: LINES * PER_LINE, rateMs: RATE_MS, seed: 3, faults: 'default' });
  const pub = await mqtt.connectAsync(sensorBroker.url, { clientId: 'bench-sensors' });
  let published = 0;
  const sent = new Set<string>();
  const topics = signals.sensors.map((s) => `sensors/${s.sensorId}/data`);
  const tick = () => {
    const ts = Date.now();
    for (let i = 0; i < signals.sensors.length; i++) {
      const v = signals.sample(i, ts);
      if (v === undefined) continue;
      const s = signals.sensors[i];
      pub.publish(topics[i], `{"sensor_id":"${s.sensorId}","${s.measurement}":${v},"timestamp":${ts}}`, { qos: 0 });
      sent.add(`${s.sensorId}@${ts}`);
      published++;
    }
  };
  // Warm up for 10 s, then measure.
  let timer = setInterval(tick, RATE_MS);
  await new Promise((r) => setTimeout(r, 10000));
  measuring = true;
  const cpu0 = samples[samples.length - 1];
  const t0 = Date.now();
  const pub0 = published;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu1 = samples[samples.length - 1];
  const elapsed = (Date.now() - t0) / 1000;
  const rate = (published - pub0) / elapsed;
  clearInterval(timer);
  timer = undefined as any;
  // Drain: everything sent must arrive.
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    let missing = 0;
    for (const k of sent) if (!seen.has(k)) missing++;
    if (missing === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  let lost = 0;
  for (const k of sent) if (!seen.has(k)) lost++;
  measuring = false;

  const cpuShare = (cpu1.cpuUs - cpu0.cpuUs) / 1e6 / ((cpu1.t - cpu0.t) / 1000);
  const rssMax = Math.max(...samples.filter((s) => s.t >= cpu0.t).map((s) => s.rss)) / 1048576;
  const lat = latencies.slice(0, nLat).sort();

  await consumer.endAsync();
  await pub.endAsync();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cloud.stop();
  await sensorBroker.stop();
  fs.rmSync(userDir, { recursive: true, force: true });

  const label = `plant ${LINES}×${PER_LINE} sensors @ ${1000 / RATE_MS} Hz, ${SECONDS} s`;
  return [
    { name: `${label}: offered rate`, value: rate, unit: 'readings/s', target: '>= 9500' },
    { name: `${label}: sensor-to-cloud latency p50`, value: percentile(lat, 50), unit: 'ms' },
    { name: `${label}: sensor-to-cloud latency p99`, value: percentile(lat, 99), unit: 'ms', target: '< 250' },
    { name: `${label}: gateway CPU`, value: cpuShare * 100, unit: '% of a core', target: '< 50' },
    { name: `${label}: gateway RSS (max)`, value: rssMax, unit: 'MB' },
    { name: `${label}: readings lost`, value: lost, unit: 'readings', target: '<= 0', compare: `${sent.size} sent, ${seen.size} distinct received` },
  ];
});
