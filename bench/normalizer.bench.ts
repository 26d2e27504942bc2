// Normalizer speed: the pure core (objects, JSON text, Buffers) and the node inside a real Node-RED runtime.
import { main, opsPerSecond, BenchResult } from './lib';
import { startRuntime, pump } from './runtime';
import { Normalizer } from '../nodes/lib/normalizer';
import { PlantSignals } from '../scripts/plant/signals';

const SENSORS = 200;
const N = 4000;
const plant = new PlantSignals({ sensors: SENSORS, faults: 'none' });
const objects: any[] = [];
const texts: string[] = [];
const buffers: Buffer[] = [];
const topics: string[] = [];
for (let i = 0; i < N; i++) {
  const m = plant.message(i % SENSORS, plant.startTs + i * 100) as any;
  objects.push(m);
  texts.push(JSON.stringify(m));
  buffers.push(Buffer.from(JSON.stringify(m)));
  topics.push(`sensors/${m.sensor_id}/data`);
}

function coreRate(payloads: unknown[], ms: number): number {
  const core = new Normalizer({});
  const out: any[] = [];
  let bad = 0;
  const rate = opsPerSecond(() => {
    const now = Date.now();
    for (let i = 0; i < N; i++) {
      out.length = 0;
      if (core.normalize(topics[i], payloads[i], now, null, out) !== null) bad++;
    }
    return N;
  }, ms);
  if (bad > 0) throw new Error(`${bad} seed messages were invalid`);
  return rate;
}

main(async () => {
  const ms = Number(process.env.GENIX_BENCH_MS ?? 2000);
  coreRate(objects, 300); // warm-up
  const results: BenchResult[] = [
    { name: 'normalizer core: parsed seed objects', value: coreRate(objects, ms), unit: 'readings/s', target: '>= 1000000' },
    { name: 'normalizer core: JSON text (MQTT-in string)', value: coreRate(texts, ms), unit: 'readings/s', target: '>= 300000' },
    { name: 'normalizer core: Buffer (MQTT-in buffer)', value: coreRate(buffers, ms), unit: 'readings/s', target: '>= 300000' },
  ];

  // Runtime: a chain of HOPS junctions, and the same chain with its first hop replaced by the normalizer.
  // Same hop count and pump overhead on both sides, so the difference is the normalizer's extra cost.
  const HOPS = 10;
  const flows: any[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  for (const chain of ['j', 'n']) {
    for (let i = 1; i <= HOPS; i++) flows.push({ id: `${chain}${i}`, type: 'junction', z: 'tab', wires: i < HOPS ? [[`${chain}${i + 1}`]] : [[]] });
  }
  flows.push(
    { id: 'j0', type: 'junction', z: 'tab', wires: [['j1']] },
    { id: 'n0', type: 'genix-normalizer', z: 'tab', wires: [['n1'], ['nBad']] },
    { id: 'nBad', type: 'junction', z: 'tab', wires: [[]] },
    { id: 'b', type: 'genix-normalizer', z: 'tab', output: 'batch', wires: [['bOut'], ['nBad']] },
    { id: 'bOut', type: 'junction', z: 'tab', wires: [[]] },
  );
  const rt = await startRuntime(flows);
  const counts: Record<string, number> = { [`j${HOPS}`]: 0, [`n${HOPS}`]: 0, nBad: 0, bOut: 0 };
  for (const id of Object.keys(counts)) rt.node(id).on('input', () => { counts[id]++; });
  // Stock MQTT-in's default output ("auto-detect") is the parsed JSON object; JSON text is measured too.
  const objectMsg = (i: number) => ({ topic: topics[i % N], payload: objects[i % N], qos: 0, retain: false });
  const textMsg = (i: number) => ({ topic: topics[i % N], payload: texts[i % N], qos: 0, retain: false });
  const total = 60000;
  const usPerMsg = async (chain: string, make: (i: number) => object) => 1e6 / (await pump(rt, `${chain}0`, make, total, () => counts[`${chain}${HOPS}`]));
  await usPerMsg('j', objectMsg);
  await usPerMsg('n', objectMsg);
  await usPerMsg('n', textMsg);
  // Alternate the runs and keep each one's best, so a busy moment on the shared machine hurts neither side alone.
  let viaJunction = Infinity, viaObject = Infinity, viaText = Infinity;
  for (let round = 0; round < 6; round++) {
    viaJunction = Math.min(viaJunction, await usPerMsg('j', objectMsg));
    viaObject = Math.min(viaObject, await usPerMsg('n', objectMsg));
    viaText = Math.min(viaText, await usPerMsg('n', textMsg));
  }
  if (counts.nBad > 0) throw new Error(`${counts.nBad} seed messages went to the invalid output`);
  const junctionHop = viaJunction / HOPS;
  const objectHop = junctionHop + (viaObject - viaJunction);
  const textHop = junctionHop + (viaText - viaJunction);
  const twice = `2 × junction hop measured in this run (${junctionHop.toFixed(2)} µs)`;
  results.push(
    { name: 'runtime: junction hop (pass-through)', value: junctionHop, unit: 'µs/hop', compare: `chain of ${HOPS} junctions, ${viaJunction.toFixed(2)} µs/msg` },
    { name: 'runtime: normalizer hop, 1 reading/msg (MQTT-in object)', value: objectHop, unit: 'µs/hop', target: `<= ${(2 * junctionHop).toFixed(2)}`, compare: twice, ok: objectHop <= 2 * junctionHop },
    { name: 'runtime: normalizer hop, 1 reading/msg (JSON text)', value: textHop, unit: 'µs/hop', compare: `${(textHop / junctionHop).toFixed(2)} × junction hop (JSON.parse included)` },
  );

  // Batches of 100 readings per message (e.g. the OPC-UA poller's batch output or a gateway's array).
  const batches: any[] = [];
  for (let b = 0; b < 40; b++) batches.push(objects.slice(b * 100, b * 100 + 100));
  const batchMsg = (i: number) => ({ topic: 'gateway/batch', payload: batches[i % batches.length] });
  await pump(rt, 'b', batchMsg, 2000, () => counts.bOut, 200);
  let batchRate = 0;
  for (let round = 0; round < 2; round++) batchRate = Math.max(batchRate, 100 * (await pump(rt, 'b', batchMsg, 10000, () => counts.bOut, 200)));
  results.push({ name: 'runtime: normalizer, batches of 100 readings/msg', value: batchRate, unit: 'readings/s', target: '>= 500000' });
  const batchTexts = batches.map((b) => JSON.stringify(b));
  const batchTextRate = 100 * (await pump(rt, 'b', (i) => ({ topic: 'gateway/batch', payload: batchTexts[i % batchTexts.length] }), 10000, () => counts.bOut, 200));
  results.push({ name: 'runtime: normalizer, batches of 100 as JSON text', value: batchTextRate, unit: 'readings/s' });
  await rt.stop();
  return results;
});
