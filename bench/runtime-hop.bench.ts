// Reference point: what one Node-RED hop costs on this machine (core junction nodes, pass-through).
import { main } from './lib';
import { startRuntime, pump } from './runtime';

const HOPS = 10;

main(async () => {
  const flows: any[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  for (let i = 0; i <= HOPS; i++) flows.push({ id: `j${i}`, type: 'junction', z: 'tab', wires: i < HOPS ? [[`j${i + 1}`]] : [[]] });
  const rt = await startRuntime(flows);
  let out = 0;
  rt.node(`j${HOPS}`).on('input', () => { out++; });
  const total = 200000;
  await pump(rt, 'j0', (i) => ({ payload: i }), 20000, () => out); // warm-up
  out = 0;
  const rate = await pump(rt, 'j0', (i) => ({ payload: i }), total, () => out);
  await rt.stop();
  const usPerHop = 1e6 / rate / HOPS;
  return [
    { name: 'runtime: pass-through hop (junction)', value: usPerHop, unit: 'µs/hop', compare: 'DESIGN.md reference: about 2.5 µs per hop' },
  ];
});
