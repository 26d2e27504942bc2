// Cloud publisher throughput through a real Node-RED runtime against a local Mosquitto (no subscriber), next to a bare
// mqtt.js client (default options) measured FIRST in the same run: same in-flight window, same warm-up, so the ratio
// publisher / bare compares like with like (GENIX_BENCH_PUMP=block: the older block pump).
import mqtt from 'mqtt';
import { main, BenchResult } from './lib';
import { freePort } from '../scripts/plant/net';
import { startMosquittoProcess } from '../scripts/plant/mosquitto';
import { startRuntime, pump } from './runtime';
import { pubsubBench } from './pubsub-rows';

/** A private Mosquitto, the same configuration as the tests use: the reference broker of this bench. */
async function startMosquitto(): Promise<{ url: string; stop(): Promise<void> }> {
  const m = await startMosquittoProcess(await freePort());
  if (!m) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  return m;
}

const reading = (i: number) => ({ sensorId: `TEMP-${i % 100}`, value: i * 0.1, ts: 1686000000000 + i, quality: 'good', unit: 'degC', plantId: 'plant-1', lineId: 'line-1' });

/** QoS 1 messages/s acknowledged for a bare mqtt.js client keeping `window` publishes in flight. */
async function bare(url: string, total: number, window: number): Promise<number> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, queueQoSZero: false });
  let acked = 0;
  let sent = 0;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const next = () => {
      while (sent < total && sent - acked < window) {
        const i = sent++;
        c.publish(`plants/plant-1/TEMP-${i % 100}`, JSON.stringify(reading(i)), { qos: 1 }, () => {
          if (++acked === total) resolve();
          else next();
        });
      }
    };
    next();
  });
  const rate = total / (Number(process.hrtime.bigint() - t0) / 1e9);
  await c.endAsync();
  return rate;
}

/**
 * Like the bare client: keeps up to `window` messages unanswered at all times (a sliding window, as the
 * store-and-forward buffer's maxInFlight does), instead of sending a block and waiting for all of it to drain.
 */
async function slide(rt: { node(id: string): any }, srcId: string, make: (i: number) => object, total: number, countOut: () => number, window: number): Promise<number> {
  // GENIX_BENCH_PUMP=block: the harness's pump (send a block, wait until all of it is answered), as measured before
  if (process.env.GENIX_BENCH_PUMP === 'block') return pump(rt as any, srcId, make, total, countOut, window);
  const src = rt.node(srcId);
  const base = countOut();
  const start = process.hrtime.bigint();
  let sent = 0;
  while (sent < total || countOut() - base < total) {
    const room = Math.min(total - sent, window - (sent - (countOut() - base)));
    for (let i = 0; i < room; i++) src.receive(make(sent++));
    await new Promise((r) => setImmediate(r));
  }
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

// GENIX_BENCH_ONLY=single|batch|cross|sparkplug runs one publisher phase alone (for profiling with --cpu-prof)
const only = process.env.GENIX_BENCH_ONLY ?? '';
const phase = (name: string) => !only || only === name;

/** CPU time (user + system) of this process per unit over fn, in microseconds: steadier than rates on a shared machine. */
async function withCpu<T>(units: () => number, fn: () => Promise<T>): Promise<[T, number]> {
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / Math.max(1, units())];
}

main(async () => {
  const broker = await startMosquitto();
  const results: BenchResult[] = [];
  // Pub/Sub (emulator) rows, next to plain MQTT in the same run and runtime (bench/pubsub-rows.ts)
  const pubsub = phase('pubsub') ? await pubsubBench() : null;
  if (pubsub && !('flows' in pubsub)) results.push(pubsub);
  const ps = pubsub && 'flows' in pubsub ? pubsub : null;
  try {
    const N = Number(process.env.GENIX_BENCH_N ?? 100000);
    // messages unanswered at once, for the bare client and the publisher alike (the endpoint's maxInFlight)
    const W = Number(process.env.GENIX_BENCH_WINDOW ?? 2000);
    const WARM = 10000;
    await bare(broker.url, WARM, W);
    const [bareRate, bareCpu] = await withCpu(() => N, () => bare(broker.url, N, W));
    const compare = `bare mqtt.js → Mosquitto, QoS 1, ${W} in flight: ${Math.round(bareRate).toLocaleString('en-US')} msg/s (same run, measured first)`;
    results.push({ name: `bare mqtt.js QoS 1, ${W} in flight (ratio denominator)`, value: bareRate, unit: 'msg/s', compare: `DESIGN.md: about 59,000 msg/s at 1,000 in flight; ${bareCpu.toFixed(1)} µs CPU per msg in this process` });

    const flows = [
      { id: 'tab', type: 'tab', label: 'bench' },
      // the endpoint's own publish window (default unless GENIX_BENCH_PUBLISHES says): beyond it, waiting JSON bodies merge per topic
      { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url, clientId: 'bench', ...(process.env.GENIX_BENCH_PUBLISHES ? { maxInFlight: Number(process.env.GENIX_BENCH_PUBLISHES) } : {}), stateTopic: '' },
      // one publish per message, as many in flight as the bare client keeps: the public-API path on its own
      { id: 'epS', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url, clientId: 'bench-single', maxInFlight: W, stateTopic: '' },
      { id: 'pubS', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'epS', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 50, batchMaxBytes: 131072, mergeWhenBusy: false, wires: [['out']] },
      { id: 'pub', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'ep', topic: 'plants/{plantId}/{sensorId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 50, batchMaxBytes: 131072, wires: [['out']] },
      { id: 'pubB', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'ep', topic: 'plants/{plantId}', qos: '1', batchMaxMessages: 1, batchMaxMs: 50, batchMaxBytes: 131072, wires: [['out']] },
      { id: 'pubX', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'ep', topic: 'plants/{plantId}', qos: '1', batchMaxMessages: 500, batchMaxMs: 20, batchMaxBytes: 131072, wires: [['out']] },
      // Sparkplug B edge node on the same broker, its own connection (URL from epS), same window and warm-up
      { id: 'spb', type: 'genix-sparkplug-out', z: 'tab', endpoint: 'epS', group: 'bench', edgeNode: 'bench-gw', wires: [['out']] },
      { id: 'out', type: 'junction', z: 'tab', wires: [] },
      ...(ps ? ps.flows : []),
    ];
    const rt = await startRuntime(flows);
    let ok = 0;
    let bad = 0;
    rt.node('out').on('input', (m: any) => { if (m.delivery?.ok) ok++; else bad++; });
    const count = () => ok + bad;
    for (let i = 0; i < 200 && (rt.node('ep').transport.state !== 'connected' || rt.node('epS').transport.state !== 'connected'); i++) await new Promise((r) => setTimeout(r, 25));
    // MQTT publishes on the shared endpoint, to show how many messages each carried
    let publishes = 0;
    rt.node('ep').transport.client.on('packetsend', (p: { cmd: string }) => { if (p.cmd === 'publish') publishes++; });

    let plainRate = 0;
    const cpuNote = (us: number, per: string) => `${us.toFixed(per === "reading" ? 2 : 1)} µs CPU per ${per} in this process`;
    if (phase('single')) {
      // the same warm-up as the bare client's: WARM messages, W in flight
      await slide(rt, 'pub', (i) => ({ payload: reading(i) }), WARM, count, W);
      ok = bad = 0;
      const p0 = publishes;
      const [single, cpu] = await withCpu(count, () => slide(rt, 'pub', (i) => ({ payload: reading(i), delivery: { buffer: 'b', ids: [i], attempt: 1 } }), N, count, W));
      const merged = `${(publishes - p0).toLocaleString('en-US')} MQTT publishes for ${N.toLocaleString('en-US')} messages (merged per topic while the endpoint's window was full)`;
      results.push({ name: 'publisher QoS 1, one reading per message, delivered + reported (default settings)', value: single, unit: 'msg/s', target: '>= 60000', compare: `${(single / bareRate).toFixed(2)}× ${compare}; ${merged}; ${cpuNote(cpu, 'msg')}`, ok: single >= 60000 && bad === 0 });
      await slide(rt, 'pubS', (i) => ({ payload: reading(i) }), WARM, count, W);
      ok = bad = 0;
      const [plain, cpuS] = await withCpu(count, () => slide(rt, 'pubS', (i) => ({ payload: reading(i), delivery: { buffer: 'b', ids: [i], attempt: 1 } }), N, count, W));
      plainRate = plain;
      results.push({ name: `publisher QoS 1, merging off: one publish per message, ${W} in flight`, value: plain, unit: 'msg/s', compare: `${(plain / bareRate).toFixed(2)}× bare (same window and warm-up); ${cpuNote(cpuS, 'msg')}`, ok: bad === 0 });
    }

    const B = 500;
    if (phase('batch')) {
      const batches = Math.max(20, Math.round((N * 3) / B));
      // the batches exist before the clock starts, as a store-and-forward replay hands them over ready-made
      const pool = Array.from({ length: 64 }, (_, j) => Array.from({ length: B }, (_, k) => reading(j * B + k)));
      ok = bad = 0;
      const [batchRate, cpu] = await withCpu(() => count() * B, () => slide(rt, 'pubB', (i) => ({ payload: pool[i % pool.length] }), batches, count, 24));
      results.push({ name: `publisher QoS 1, replay batches of ${B} readings`, value: batchRate * B, unit: 'readings/s', target: '>= 300000', compare: `${compare}; ${cpuNote(cpu, 'reading')}`, ok: batchRate * B >= 300000 && bad === 0 });
    }

    if (phase('cross')) {
      ok = bad = 0;
      const [crossRate, cpu] = await withCpu(count, () => slide(rt, 'pubX', (i) => ({ payload: reading(i) }), N, count, W));
      results.push({ name: 'publisher batching single readings across messages (500/batch)', value: crossRate, unit: 'readings/s', compare: `each input still answered on its own; ${cpuNote(cpu, 'msg')}` });
      ok = bad = 0;
      // the demo's shape: the normalizer sends arrays (here of one reading), merged across messages into one array per topic
      const [arrRate, cpuA] = await withCpu(count, () => slide(rt, 'pubX', (i) => ({ payload: [reading(i)] }), N, count, W));
      results.push({ name: 'publisher merging 1-reading array inputs across messages (500/batch)', value: arrRate, unit: 'readings/s', compare: `each input still answered on its own; ${cpuNote(cpuA, 'msg')}` });
    }
    if (phase('sparkplug')) {
      // online = the first reading is answered ok (NBIRTH sent before it)
      for (let i = 0; i < 200; i++) {
        ok = bad = 0;
        rt.node('spb').receive({ payload: reading(i) });
        await new Promise((r) => setTimeout(r, 25));
        if (ok) break;
      }
      await slide(rt, 'spb', (i) => ({ payload: reading(i) }), WARM, count, W);
      ok = bad = 0;
      const [spRate, cpu] = await withCpu(count, () => slide(rt, 'spb', (i) => ({ payload: reading(i), delivery: { buffer: 'b', ids: [i], attempt: 1 } }), N, count, W));
      const vsPlain = plainRate ? `${(spRate / plainRate).toFixed(2)}× the plain MQTT publisher (merging off, same window) and ` : '';
      results.push({ name: `Sparkplug B out QoS 1, one reading per message (DDATA by alias), ${W} in flight`, value: spRate, unit: 'msg/s', compare: `${vsPlain}${(spRate / bareRate).toFixed(2)}× ${compare}; ${cpuNote(cpu, 'msg')}`, ok: bad === 0 });
      const pool = Array.from({ length: 64 }, (_, j) => Array.from({ length: B }, (_, k) => reading(j * B + k)));
      ok = bad = 0;
      const batches = Math.max(20, Math.round((N * 3) / B));
      const [spBatch, cpuB] = await withCpu(() => count() * B, () => slide(rt, 'spb', (i) => ({ payload: pool[i % pool.length] }), batches, count, 24));
      results.push({ name: `Sparkplug B out QoS 1, batches of ${B} readings (one DDATA per device and batch)`, value: spBatch * B, unit: 'readings/s', compare: `${compare}; ${cpuNote(cpuB, 'reading')}`, ok: bad === 0 });
    }
    if (ps) results.push(...(await ps.measure(rt, slide)));
    await rt.stop();
  } finally {
    await broker.stop();
    if (ps) await ps.stop();
  }
  return results;
});
