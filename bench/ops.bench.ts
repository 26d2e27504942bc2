// Cost of the genix-ops message hooks (onSend + onReceive): the same chains with the hooks removed
// and installed, in paired rounds in one real runtime (per hop = (time per message on − off) / hops),
// and the observers alone on a deployed node, which is steadier on a busy machine.
import { main, BenchResult } from './lib';
import { startRuntime, pump } from './runtime';
import { installHooks, removeHooks, observeSend, observeReceive } from '../nodes/lib/ops/hooks';
import { Traffic } from '../nodes/lib/ops/traffic';
import { DeliveryLatency } from '../nodes/lib/ops/delivery';
import { AlarmTracker } from '../nodes/lib/ops/alarms';

const HOPS = 10;
const ROUNDS = 10;
const TOTAL = 50000;

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
  // paired rounds, the order alternating, so that load drifting over the run cancels out
  const diffs = { junction: [] as number[], normalizer: [] as number[] };
  const off = { junction: [] as number[], normalizer: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const runs: Record<'on' | 'off', { junction: number; normalizer: number }> = {} as any;
    for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      if (mode === 'on') installHooks(rt.RED.hooks, sinks);
      else removeHooks(rt.RED.hooks);
      runs[mode] = await measure();
    }
    for (const k of ['junction', 'normalizer'] as const) {
      diffs[k].push((1e6 / runs.on[k] - 1e6 / runs.off[k]) / HOPS);
      off[k].push(1e6 / runs.off[k] / HOPS);
    }
  }
  installHooks(rt.RED.hooks, sinks);
  const counted = sinks.traffic.snapshot().find((t) => t.id === `n${HOPS}`)?.messagesIn ?? 0;
  if (counted < TOTAL) throw new Error(`hooks counted ${counted} messages into n${HOPS}, sent ${TOTAL} per round with hooks on`);

  // the observers alone, on a deployed node object: what each genix hop adds on top of Node-RED's hook calls
  const src = rt.node('n0');
  const dst = rt.node('n1');
  const msg = { _msgid: 'm', topic: 'TEMP-01', payload: reading(0).payload };
  const sendEvents = [{ msg, source: { id: src.id, node: src, port: 0 }, destination: { id: dst.id, node: undefined }, cloneMessage: false }];
  const receiveEvent = { msg, destination: { id: dst.id, node: dst } };
  const N = 2000000;
  const loops: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      observeSend(sendEvents, sinks);
      observeReceive(receiveEvent, sinks);
    }
    loops.push(Number(process.hrtime.bigint() - t0) / N / 1000);
  }
  // Node-RED's hook dispatch (RED.hooks.trigger, as the runtime calls it per hop) with and without ours
  const H = rt.RED.hooks;
  const noop = () => undefined;
  const hop = (a: string, b: string) => {
    const m = { _msgid: 'm', payload: reading(0).payload };
    return { send: [{ msg: m, source: { id: a, node: rt.node(a), port: 0 }, destination: { id: b, node: undefined }, cloneMessage: false }], receive: { msg: m, destination: { id: b, node: rt.node(b) } } };
  };
  const trigger = (e: ReturnType<typeof hop>) => {
    const M = 1000000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < M; i++) {
      H.trigger('onSend', e.send, noop);
      H.trigger('onReceive', e.receive, noop);
    }
    return Number(process.hrtime.bigint() - t0) / M / 1000;
  };
  const jHop = hop('j0', 'j1');
  const nHop = hop('n0', 'n1');
  const dispatch = { junction: [] as number[], normalizer: [] as number[] };
  for (let r = 0; r < 5; r++) {
    removeHooks(H);
    const offJ = trigger(jHop);
    const offN = trigger(nHop);
    installHooks(H, sinks);
    dispatch.junction.push(trigger(jHop) - offJ);
    dispatch.normalizer.push(trigger(nHop) - offN);
  }
  await rt.stop();

  const results: BenchResult[] = [
    {
      name: 'ops hooks: Node-RED dispatch + observers per genix hop',
      value: median(dispatch.normalizer),
      unit: 'µs/hop',
      target: '<= 0.5',
      compare: 'RED.hooks.trigger onSend + onReceive as the runtime calls them, hooks installed − none; median of 5 × 1,000,000',
    },
    {
      name: 'ops hooks: Node-RED dispatch + type check per hop of other nodes',
      value: median(dispatch.junction),
      unit: 'µs/hop',
      target: '<= 0.5',
      compare: 'same, for a junction → junction hop',
    },
    {
      name: 'ops hooks: observers per genix hop (send + receive counted)',
      value: median(loops),
      unit: 'µs/hop',
      target: '<= 0.5',
      compare: `median of 5 × ${N.toLocaleString('en-US')} calls on a deployed genix-normalizer node`,
    },
    {
      name: 'ops hooks: runtime cost per hop, genix node',
      value: median(diffs.normalizer),
      unit: 'µs/hop',
      compare: `median of ${ROUNDS} paired rounds (on − off); genix-normalizer hop ${median(off.normalizer).toFixed(2)} µs without hooks; spread ${Math.min(...diffs.normalizer).toFixed(2)}..${Math.max(...diffs.normalizer).toFixed(2)}`,
    },
    {
      name: 'ops hooks: runtime cost per hop, other node (type check only)',
      value: median(diffs.junction),
      unit: 'µs/hop',
      compare: `median of ${ROUNDS} paired rounds (on − off); junction hop ${median(off.junction).toFixed(2)} µs without hooks; spread ${Math.min(...diffs.junction).toFixed(2)}..${Math.max(...diffs.junction).toFixed(2)}`,
    },
  ];
  return results;
});
