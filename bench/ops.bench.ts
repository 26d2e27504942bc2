// Cost of the genix-ops message hooks (onSend + onReceive): the same chains with the hooks removed
// and installed, alternately, in one real runtime. Per hop = (time per message on − off) / hops.
import { main, BenchResult } from './lib';
import { startRuntime, pump } from './runtime';
import { installHooks, removeHooks } from '../nodes/lib/ops/hooks';
import { Traffic } from '../nodes/lib/ops/traffic';
import { DeliveryLatency } from '../nodes/lib/ops/delivery';
import { AlarmTracker } from '../nodes/lib/ops/alarms';

const HOPS = 10;
const ROUNDS = 5;
const TOTAL = 100000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

main(async () => {
  const flows: any[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  for (let i = 0; i <= HOPS; i++) flows.push({ id: `j${i}`, type: 'junction', z: 'tab', wires: i < HOPS ? [[`j${i + 1}`]] : [[]] });
  for (let i = 0; i <= HOPS; i++) flows.push({ id: `n${i}`, type: 'genix-normalizer', z: 'tab', wires: i < HOPS ? [[`n${i + 1}`], []] : [[], []] });
  const rt = await startRuntime(flows);
  let junctionOut = 0;
  let normOut = 0;
  rt.node(`j${HOPS}`).on('input', () => { junctionOut++; });
  rt.node(`n${HOPS}`).on('input', () => { normOut++; });
  const reading = (i: number) => ({ topic: 'TEMP-01', payload: { sensorId: 'TEMP-01', value: i % 100, ts: 1767225600000 + i, quality: 'good' } });
  const sinks = { traffic: new Traffic(), delivery: new DeliveryLatency(() => undefined), alarms: new AlarmTracker() };

  const measure = async () => ({
    junction: await pump(rt, 'j0', (i) => ({ payload: i }), TOTAL, () => junctionOut),
    normalizer: await pump(rt, 'n0', reading, TOTAL, () => normOut),
  });
  removeHooks(rt.RED.hooks);
  await measure(); // warm-up
  const off = { junction: [] as number[], normalizer: [] as number[] };
  const on = { junction: [] as number[], normalizer: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    removeHooks(rt.RED.hooks);
    const a = await measure();
    installHooks(rt.RED.hooks, sinks);
    const b = await measure();
    off.junction.push(a.junction); off.normalizer.push(a.normalizer);
    on.junction.push(b.junction); on.normalizer.push(b.normalizer);
  }
  await rt.stop();
  const counted = sinks.traffic.snapshot().find((t) => t.id === `n${HOPS}`)?.messagesIn ?? 0;
  if (counted !== ROUNDS * TOTAL) throw new Error(`hooks counted ${counted} messages into n${HOPS}, sent ${ROUNDS * TOTAL}`);
  const perHop = (rOn: number, rOff: number) => ((1e6 / rOn - 1e6 / rOff) / HOPS);
  const jOn = median(on.junction), jOff = median(off.junction), nOn = median(on.normalizer), nOff = median(off.normalizer);
  const results: BenchResult[] = [
    {
      name: 'ops hooks: cost per hop, genix node (counted in and out)',
      value: perHop(nOn, nOff),
      unit: 'µs/hop',
      target: '<= 0.5',
      compare: `genix-normalizer hop ${(1e6 / nOff / HOPS).toFixed(2)} µs without hooks, ${(1e6 / nOn / HOPS).toFixed(2)} µs with (median of ${ROUNDS})`,
    },
    {
      name: 'ops hooks: cost per hop, other node (type check only)',
      value: perHop(jOn, jOff),
      unit: 'µs/hop',
      target: '<= 0.3',
      compare: `junction hop ${(1e6 / jOff / HOPS).toFixed(2)} µs without hooks, ${(1e6 / jOn / HOPS).toFixed(2)} µs with (median of ${ROUNDS})`,
    },
  ];
  return results;
});
