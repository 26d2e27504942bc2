// Pub/Sub (emulator) rows of the cloud bench, next to plain MQTT in the same run: the publisher in Pub/Sub mode
// through the same runtime, against Google's bare client keeping the same number of publishes unanswered,
// measured first. The emulator (Java, one process) bounds both: compare the ratio, not the absolute figure.
import type { BenchResult } from './lib';
import { freePort } from '../scripts/plant/net';
import { pubsubEmulatorMissing, pubsubEmulatorPath, startPubsubEmulator, PubsubEmulator } from '../scripts/plant/pubsub-emulator';
import { emulatorAuth } from '../nodes/lib/cloud/pubsub-sender';

const PROJECT = 'genix-bench';
const TOPIC = 'sensor-data';

type Slide = (rt: { node(id: string): any }, srcId: string, make: (i: number) => object, total: number, countOut: () => number, window: number) => Promise<number>;

export interface PubsubBench {
  /** nodes to deploy with the bench's flows (the runtime is one per process) */
  flows: object[];
  measure(rt: { node(id: string): any }, slide: Slide): Promise<BenchResult[]>;
  stop(): Promise<void>;
}

const reading = (i: number) => ({ sensorId: `TEMP-${i % 100}`, value: i * 0.1, ts: 1686000000000 + i, quality: 'good', unit: 'degC', plantId: 'plant-1', lineId: 'line-1' });

/** Bare @google-cloud/pubsub: messages/s with `window` publishes unanswered, the client's default batching. */
async function bare(topic: any, total: number, window: number): Promise<number> {
  let acked = 0;
  let sent = 0;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      while (sent < total && sent - acked < window) {
        const i = sent++;
        topic.publishMessage({ data: Buffer.from(JSON.stringify(reading(i))), attributes: { sensorId: `TEMP-${i % 100}` } }).then(() => {
          if (++acked === total) resolve();
          else next();
        }, reject);
      }
    };
    next();
  });
  return total / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Starts the emulator with the topic; null rows (with the reason) when it is not installed. */
export async function pubsubBench(): Promise<PubsubBench | BenchResult> {
  if (!pubsubEmulatorPath()) return { name: 'publisher → Pub/Sub (emulator)', value: 0, unit: 'msg/s', compare: `not measured: ${pubsubEmulatorMissing}`, ok: false };
  const emu = (await startPubsubEmulator(await freePort())) as PubsubEmulator;
  const { PubSub } = require('@google-cloud/pubsub');
  const client = new PubSub({ projectId: PROJECT, apiEndpoint: emu.host, ...emulatorAuth() });
  await client.topic(TOPIC).get({ autoCreate: true });
  const N = Number(process.env.GENIX_BENCH_PUBSUB_N ?? 20000);
  const W = Number(process.env.GENIX_BENCH_PUBSUB_WINDOW ?? 1000);
  const B = 500;
  return {
    flows: [
      { id: 'psEp', type: 'genix-cloud-endpoint', protocol: 'pubsub', projectId: PROJECT, apiEndpoint: emu.host, attributes: 'sensorId', timeoutMs: 30000 },
      { id: 'psPub', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'psEp', topic: TOPIC, batchMaxMessages: 1, batchMaxMs: 50, batchMaxBytes: 131072, wires: [['psOut']] },
      { id: 'psOut', type: 'junction', z: 'tab', wires: [] },
    ],
    async measure(rt, slide) {
      const results: BenchResult[] = [];
      let ok = 0;
      let bad = 0;
      rt.node('psOut').on('input', (m: any) => { if (m.delivery?.ok) ok++; else bad++; });
      const count = () => ok + bad;
      const topic = client.topic(TOPIC);
      await bare(topic, 2000, W);
      const bareRate = await bare(topic, N, W);
      const compare = `bare @google-cloud/pubsub → emulator, ${W} in flight: ${Math.round(bareRate).toLocaleString('en-US')} msg/s (same run, measured first)`;
      results.push({ name: `bare @google-cloud/pubsub → Pub/Sub emulator, ${W} in flight (ratio denominator)`, value: bareRate, unit: 'msg/s', compare: 'the emulator (one Java process on the same 2 cores) bounds every client' });
      await slide(rt, 'psPub', (i) => ({ payload: reading(i) }), 2000, count, W);
      ok = bad = 0;
      const single = await slide(rt, 'psPub', (i) => ({ payload: reading(i), delivery: { buffer: 'b', ids: [i], attempt: 1 } }), N, count, W);
      results.push({ name: 'publisher → Pub/Sub (emulator), one reading per message, delivered + reported', value: single, unit: 'msg/s', compare: `${(single / bareRate).toFixed(2)}× ${compare}`, ok: bad === 0 });
      const pool = Array.from({ length: 16 }, (_, j) => Array.from({ length: B }, (_, k) => reading(j * B + k)));
      ok = bad = 0;
      const batches = Math.max(10, Math.round(N / B));
      const batchRate = await slide(rt, 'psPub', (i) => ({ payload: pool[i % pool.length] }), batches, count, Math.max(1, Math.floor(W / B)) * 2);
      results.push({ name: `publisher → Pub/Sub (emulator), replay batches of ${B} readings (one message per reading)`, value: batchRate * B, unit: 'readings/s', compare, ok: bad === 0 });
      return results;
    },
    async stop() {
      await client.close().catch(() => undefined);
      await emu.stop();
    },
  };
}
