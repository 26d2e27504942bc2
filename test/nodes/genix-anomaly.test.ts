import assert from 'assert';
import helper from 'node-red-node-test-helper';
import fs from 'fs';
import path from 'path';
import { waitFor } from '../helpers/wait';
import { DEFAULT_RULES, compileRules } from '../../nodes/lib/anomaly/rules';
import { demoAnomalyRules } from '../../scripts/demo-flow';

const anomalyNode = require('../../dist/nodes/genix-anomaly.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const T0 = Date.UTC(2026, 0, 1);
const RULES = [
  { match: 'TEMP-*', baseline: 45, deviation: 7.5, staleMs: 3000 },
  { match: 'PRES-*', hi: 5, deadband: 0.2 },
];
const rd = (sensorId: string, value: unknown, ts: number, extra: object = {}) => ({ sensorId, value, ts, quality: 'good', ...extra });

// Each test deploys a new node id: a stopped node hands its state to the next node with its id.
let seq = 0;
let nid = 'n';
function flow(props: object = {}) {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: nid, z: 'tab', type: 'genix-anomaly', name: 'anomaly', rules: RULES, liveClock: false, wires: [['out'], ['alarms']], ...props },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'alarms', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

interface Rig { n: any; out: any[]; alarms: any[]; caught: any[] }
function attach(): Rig {
  const r: Rig = { n: helper.getNode(nid), out: [], alarms: [], caught: [] };
  helper.getNode('out').on('input', (m: any) => r.out.push(m));
  helper.getNode('alarms').on('input', (m: any) => r.alarms.push(m));
  helper.getNode('caught').on('input', (m: any) => r.caught.push(m));
  return r;
}
async function load(props: object = {}): Promise<Rig> {
  nid = `anomaly-${++seq}`;
  await helper.load([anomalyNode, catchNode], flow(props));
  return attach();
}
const states = (alarms: any[]) => alarms.map((m) => `${m.topic} ${m.payload.kind} ${m.payload.state}`);

describe('genix-anomaly editor defaults', function () {
  // The editor cannot import the library: its two rule sets are copies, checked here against their homes.
  const html = fs.readFileSync(path.resolve(__dirname, '..', '..', 'nodes', 'genix-anomaly.html'), 'utf8');
  const jsArray = (name: string) => {
    const m = new RegExp(`var ${name} = (\\[[\\s\\S]*?\\]);`).exec(html);
    assert.ok(m, `${name} in genix-anomaly.html`);
    return Function(`return ${m[1]}`)();
  };
  it('a new node starts with DEFAULT_RULES (learned periods: no tuning), and they compile', function () {
    assert.deepStrictEqual(jsArray('DEFAULT_RULES'), DEFAULT_RULES);
    assert.match(html, /rules: \{ value: DEFAULT_RULES/);
    assert.doesNotThrow(() => compileRules(DEFAULT_RULES));
  });
  it('the "use demo plant rules" button gives the demo flow\'s rules', function () {
    assert.deepStrictEqual(jsArray('DEMO_RULES'), demoAnomalyRules);
  });
});

describe('genix-anomaly node', function () {
  afterEach(async function () {
    await helper.unload();
  });

  it('passes readings through, annotates active alarms, and sends one event per state change', async function () {
    const { n, out, alarms } = await load();
    for (let i = 0; i < 60; i++) n.receive({ topic: 'TEMP-01', payload: rd('TEMP-01', i >= 20 && i < 40 ? 60 : 45, T0 + i * 100) });
    await waitFor(() => out.length === 60, '60 readings');
    assert.deepStrictEqual(states(alarms), ['TEMP-01 deviation active', 'TEMP-01 deviation cleared']);
    assert.deepStrictEqual(out[25].payload.alarms, ['deviation']);
    assert.ok(!('alarms' in out[10].payload) && !('alarms' in out[45].payload), 'no alarms property without alarms');
    assert.strictEqual(out[0].topic, 'TEMP-01', 'other msg properties kept');
    const ev = alarms[0].payload;
    assert.strictEqual(ev.ts, T0 + 2000);
    assert.strictEqual(ev.limit, 7.5);
    assert.strictEqual(ev.severity, 'medium');
    assert.strictEqual(alarms[1].payload.activeSince, T0 + 2000);
  });

  it('handles a batch in one message and annotates each reading', async function () {
    const { n, out, alarms } = await load();
    n.receive({ payload: [rd('PRES-01', 3, T0), rd('PRES-02', 6, T0), rd('OTHER', 1e9, T0)] });
    await waitFor(() => out.length === 1 && alarms.length === 1, 'batch out and one alarm');
    const b = out[0].payload;
    assert.deepStrictEqual(b.map((r: any) => r.alarms ?? null), [null, ['hi'], null]);
    assert.deepStrictEqual(states(alarms), ['PRES-02 hi active']);
  });

  it('backfilled readings pass through untouched with no events by default; "evaluate" sends their events marked historical', async function () {
    const history = [rd('PRES-01', 9, T0 - 5000, { backfill: true }), rd('PRES-01', 3, T0 - 4900, { backfill: true })];
    let { n, out, alarms } = await load();
    n.receive({ payload: [rd('PRES-01', 6, T0)] }); // a live alarm the history must not touch
    n.receive({ payload: history.map((r) => ({ ...r })) });
    n.receive({ payload: { ...history[0] } });
    n.receive({ payload: [rd('PRES-01', 6, T0 + 100)] });
    await waitFor(() => out.length === 4, 'four messages out');
    assert.deepStrictEqual(out[1].payload, history, 'the backfilled batch leaves exactly as it came');
    assert.deepStrictEqual(out[2].payload, history[0]);
    assert.deepStrictEqual(out[3].payload[0].alarms, ['hi'], 'the live alarm is still active');
    assert.deepStrictEqual(states(alarms), ['PRES-01 hi active']);

    await helper.unload();
    ({ n, out, alarms } = await load({ backfill: 'evaluate' }));
    n.receive({ payload: [rd('PRES-01', 3, T0)] });
    n.receive({ payload: history.map((r) => ({ ...r })) });
    await waitFor(() => out.length === 2 && alarms.length === 2, 'history judged');
    assert.deepStrictEqual(states(alarms), ['PRES-01 hi active', 'PRES-01 hi cleared']);
    assert.ok(alarms.every((m) => m.payload.historical === true && m.payload.ts < T0), 'events about the past, marked');
    assert.deepStrictEqual(out[1].payload, history, 'still not annotated');
    n.receive({ payload: [rd('PRES-01', 6, T0 + 100)] });
    await waitFor(() => alarms.length === 3, 'live alarm');
    assert.strictEqual(alarms[2].payload.historical, undefined);
  });

  it('reports bad input through the Catch node and still passes the data on', async function () {
    const { n, out, alarms, caught } = await load();
    n.receive({ payload: 'not a reading' });
    await waitFor(() => caught.length === 1, 'caught error');
    assert.match(caught[0].error.message, /payload is not a reading object/);
    n.receive({ payload: [rd('PRES-01', 9, T0), { value: 3 }, rd('PRES-02', 1, 'yesterday' as any)] });
    await waitFor(() => caught.length === 2, 'second error');
    assert.match(caught[1].error.message, /2 of 3 batch entries are not readings/);
    await waitFor(() => out.length === 2, 'both inputs passed through');
    assert.deepStrictEqual(states(alarms), ['PRES-01 hi active'], 'the valid entry was evaluated');
  });

  it('acknowledges, shelves and unshelves by message, and resets a sensor', async function () {
    const { n, alarms, caught } = await load();
    n.receive({ payload: rd('PRES-01', 9, T0) });
    n.receive({ payload: rd('PRES-02', 9, T0) });
    await waitFor(() => alarms.length === 2, 'two actives');
    n.receive({ command: 'ack', payload: { sensorId: 'PRES-01' } });
    await waitFor(() => alarms.length === 3, 'ack event');
    assert.strictEqual(alarms[2].payload.state, 'acknowledged');
    assert.strictEqual(alarms[2].topic, 'PRES-01');
    n.receive({ topic: 'shelve', payload: { sensorId: 'PRES-*', durationMs: 60000 } });
    await waitFor(() => alarms.length === 5, 'two shelved events');
    n.receive({ payload: rd('PRES-01', 1, T0 + 100) });
    n.receive({ payload: rd('PRES-01', 9, T0 + 200) });
    n.receive({ command: 'unshelve', payload: 'PRES-01' });
    n.receive({ command: 'reset', payload: { sensorId: 'PRES-02' } });
    await waitFor(() => alarms.length === 6, 'unshelved');
    assert.deepStrictEqual(states(alarms).slice(3), ['PRES-01 hi shelved', 'PRES-02 hi shelved', 'PRES-01 hi unshelved'], 'nothing while shelved; reset of a shelved alarm is silent');
    assert.strictEqual(alarms[5].payload.acknowledged, undefined, 'the re-activation while shelved needs a new ack');
    assert.match(alarms[5].payload.message, /still active/);
    n.receive({ command: 'shelve', payload: { sensorId: 'PRES-01', durationMs: -5 } });
    n.receive({ command: 'explode' });
    await waitFor(() => caught.length === 2, 'two errors');
    assert.match(caught[0].error.message, /durationMs/);
    assert.match(caught[1].error.message, /msg.command "explode" is not a command.*payload is not a reading object/);
  });

  it('replaces rules by message; invalid rules change nothing and raise an error', async function () {
    const { n, alarms, caught } = await load();
    n.receive({ payload: rd('PRES-01', 9, T0) });
    await waitFor(() => alarms.length === 1, 'active');
    n.receive({ topic: 'rules', payload: [{ match: '*', hi: 'lots' }] });
    await waitFor(() => caught.length === 1, 'error');
    assert.match(caught[0].error.message, /rules\[0\]\.hi/);
    n.receive({ command: 'rules', payload: [{ match: '*', hi: 100 }] });
    await waitFor(() => alarms.length === 2, 'cleared by the new rules');
    assert.strictEqual(alarms[1].payload.state, 'cleared');
    n.receive({ payload: rd('PRES-01', 99, T0 + 100) });
    n.receive({ payload: rd('PRES-01', 101, T0 + 200) });
    await waitFor(() => alarms.length === 3, 'the new limit applies');
    assert.strictEqual(alarms[2].payload.limit, 100);
  });

  it('an unknown msg.command: the reading is evaluated and passed on, with a warning naming the known commands', async function () {
    const { n, out, alarms, caught } = await load();
    const warnings: string[] = [];
    n.on('call:warn', (call: any) => warnings.push(String(call.args[0])));
    n.receive({ command: 'acknowledge', payload: rd('PRES-01', 9, T0) });
    n.receive({ command: 'acknowledge', payload: rd('PRES-01', 9, T0 + 100) });
    await waitFor(() => out.length === 2 && alarms.length === 1, 'both readings passed through, the first raised hi');
    assert.deepStrictEqual(states(alarms), ['PRES-01 hi active']);
    assert.deepStrictEqual(out[0].payload.alarms, ['hi']);
    assert.strictEqual(caught.length, 0, 'not an error: no data was refused');
    assert.strictEqual(warnings.length, 1, `one warning per unknown command name: ${JSON.stringify(warnings)}`);
    assert.match(warnings[0], /unknownCommand|acknowledge/);
  });

  it('groups the alarms of a sensor into one episode by default; group: false sends one event per kind', async function () {
    const rules = [{ match: '*', hi: 5, hihi: 8 }];
    const grouped = await load({ rules });
    grouped.n.receive({ payload: [rd('PT-1', 6, T0), rd('PT-1', 9, T0 + 100), rd('PT-1', 1, T0 + 200)] });
    await waitFor(() => grouped.out.length === 1 && grouped.alarms.length === 3, 'active, escalated, cleared');
    assert.deepStrictEqual(states(grouped.alarms), ['PT-1 hi active', 'PT-1 hihi escalated', 'PT-1 hi cleared']);
    assert.deepStrictEqual(grouped.alarms[2].payload.episode.kinds, ['hihi', 'hi']);
    await helper.unload();
    const perKind = await load({ rules, group: false });
    perKind.n.receive({ payload: [rd('PT-1', 6, T0), rd('PT-1', 9, T0 + 100), rd('PT-1', 1, T0 + 200)] });
    await waitFor(() => perKind.alarms.length === 4, 'two actives, two clears');
    assert.deepStrictEqual(states(perKind.alarms), ['PT-1 hi active', 'PT-1 hihi active', 'PT-1 hihi cleared', 'PT-1 hi cleared']);
  });

  it('a reading whose topic happens to be a command name is still a reading', async function () {
    const { n, out, alarms } = await load({ rules: [{ match: '*', hi: 1 }] });
    n.receive({ topic: 'reset', payload: rd('reset', 5, T0) });
    await waitFor(() => out.length === 1 && alarms.length === 1, 'evaluated as a reading');
  });

  it('raises stale from the timer when a sensor stops sending (live clock)', async function () {
    const { n, alarms } = await load({ liveClock: true, sweepMs: 50, rules: [{ match: '*', staleMs: 300 }] });
    const ts = Date.now();
    n.receive({ payload: [rd('TEMP-09', 45, ts - 100), rd('TEMP-09', 45, ts)] }); // two readings: the period is known
    await waitFor(() => alarms.length === 1, 'stale alarm', 5000);
    assert.strictEqual(alarms[0].payload.kind, 'stale');
    assert.strictEqual(alarms[0].payload.ts, ts + 300);
    n.receive({ payload: rd('TEMP-09', 45, Date.now()) });
    await waitFor(() => alarms.length === 2, 'stale cleared', 5000);
  });

  it('replay mode (live clock off): stale is decided by the readings\' own timestamps, even far from now', async function () {
    const { n, alarms } = await load({ rules: [{ match: '*', staleMs: 3000 }] });
    const future = Date.UTC(2031, 5, 1);
    n.receive({ payload: [rd('A', 1, future - 1000), rd('A', 1, future), rd('B', 1, future)] });
    n.receive({ payload: [1, 2, 3, 4, 5].map((k) => rd('B', 1, future + k * 1000)) });
    await waitFor(() => alarms.length === 1, 'A stale on the replayed clock');
    assert.deepStrictEqual(states(alarms), ['A stale active']);
    assert.strictEqual(alarms[0].payload.ts, future + 3000);
  });

  it('shows the active count and alarms per 10 minutes in the status', async function () {
    const { n } = await load();
    const calls: any[] = [];
    n.on('call:status', (c: any) => calls.push(c.args[0]));
    n.receive({ payload: rd('PRES-01', 9, T0) });
    await waitFor(() => calls.some((s) => s.fill === 'red'), 'red status', 5000);
    const s = calls.find((x) => x.fill === 'red');
    assert.strictEqual(s.text, 'genix-anomaly.status.summary');
  });

  it('invalid rules in the settings: status, error on input, data passed through', async function () {
    const { n, out, caught } = await load({ rules: [{ match: '*', baseline: 3 }] });
    n.receive({ payload: rd('A', 1, T0) });
    await waitFor(() => caught.length === 1 && out.length === 1, 'error and pass-through');
    assert.match(caught[0].error.message, /genix-anomaly.errors.config/);
  });

  it('keeps active alarms across a redeploy: no second "active", the clear carries the original activeSince', async function () {
    const { n, alarms } = await load({ saveEveryMs: 100000 });
    n.receive({ payload: rd('PRES-01', 9, T0) });
    n.receive({ command: 'ack', payload: 'PRES-01' });
    await waitFor(() => alarms.length === 2, 'active + acknowledged');
    // Redeploy with a changed name: the node is stopped (state saved on close) and started again.
    await helper.setFlows(flow({ name: 'renamed', saveEveryMs: 100000 }), 'nodes');
    const after = attach();
    assert.notStrictEqual(after.n, n, 'a new node instance');
    after.n.receive({ payload: rd('PRES-01', 9.5, T0 + 100) });
    after.n.receive({ payload: rd('PRES-01', 1, T0 + 200) });
    await waitFor(() => after.alarms.length === 1, 'cleared after redeploy');
    assert.deepStrictEqual(states(after.alarms), ['PRES-01 hi cleared']);
    assert.strictEqual(after.alarms[0].payload.activeSince, T0);
    assert.strictEqual(after.alarms[0].payload.acknowledged, true);
    // Rules edited in the editor apply on redeploy; alarms of kinds they no longer raise are cleared.
    after.n.receive({ payload: rd('PRES-01', 9, T0 + 300) });
    await waitFor(() => after.alarms.length === 2, 'active again');
    await helper.setFlows(flow({ rules: [{ match: '*', lo: 0 }] }), 'nodes');
    const third = attach();
    await waitFor(() => third.alarms.length === 1, 'cleared on start by the new rules');
    assert.deepStrictEqual(states(third.alarms), ['PRES-01 hi cleared']);
  });
});
