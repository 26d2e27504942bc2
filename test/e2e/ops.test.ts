// Operations endpoints in a real Node-RED child process with the package loaded as installed
// (package.json "plugins"): Prometheus metrics counted from a real flow, health probes.
import assert from 'assert';
import fs from 'fs';
import path from 'path';
import type { PromHistogramData } from 'prom2javascript';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { waitFor } from '../helpers/wait';
import { promqlMetricNames } from '../helpers/promql';
import { opsFlow, scrape, value } from '../helpers/ops';
import { startPlant, fastTiming } from '../helpers/opcua';
import { freePort } from '../helpers/net';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';


async function press(red: RedProcess, id: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${red.url}/inject/${id}`, { method: 'POST' });
    assert.strictEqual(res.status, 200, `inject ${id}`);
  }
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('operations: metrics and health in a real Node-RED (e2e)', function () {
  this.timeout(90000);
  let red: RedProcess;

  before(async () => {
    red = await startRedProcess({
      flows: opsFlow(),
      settings: {
        runtimeState: { enabled: true, ui: false },
        genixOps: { health: { maxEventLoopDelayMs: 1000, windowMs: 3000 } },
      },
    });
  });
  after(async () => {
    await red?.stop();
  });

  it('counts readings in and out per node, backlog, drops, delivery latency and alarms as sent', async () => {
    await press(red, 'inj-one', 5);
    await press(red, 'inj-batch');
    await press(red, 'inj-bad');
    // 6 messages reach each buffer: 5 single readings and 1 batch of 3
    const m = await waitFor(async () => {
      const s = await scrape(red.url);
      const mm = s.metrics!;
      return value(mm, 'genix_buffer_delivered_total', { node: 'sf' }) === 6 && value(mm, 'genix_buffer_accepted_total', { node: 'held' }) === 6 ? mm : undefined;
    }, 'both buffers to take 6 messages and the cloud to acknowledge them', 20000);

    const norm = { node: 'norm', type: 'genix-normalizer', name: 'normalize' };
    assert.strictEqual(value(m, 'genix_node_messages_in_total', norm), 7);
    assert.strictEqual(value(m, 'genix_node_readings_in_total', norm), 5 + 3 + 1);
    assert.strictEqual(value(m, 'genix_node_readings_out_total', { ...norm, port: '0' }), 8);
    assert.strictEqual(value(m, 'genix_node_messages_out_total', { ...norm, port: '1' }), 1, 'the invalid one on output 2');

    const an = { node: 'an', type: 'genix-anomaly' };
    assert.strictEqual(value(m, 'genix_node_readings_in_total', an), 8);
    assert.strictEqual(value(m, 'genix_node_messages_out_total', { ...an, port: '0' }), 6, 'wired to two buffers, counted once per message');
    assert.strictEqual(value(m, 'genix_node_readings_out_total', { ...an, port: '0' }), 8);
    assert.strictEqual(value(m, 'genix_alarm_events_total', { node: 'an', kind: 'hi', state: 'active' }), 1);
    assert.strictEqual(value(m, 'genix_alarms_active', { node: 'an' }), 1);

    // the delivery answers coming back are not counted as new readings
    assert.strictEqual(value(m, 'genix_node_messages_in_total', { node: 'sf' }), 6);
    assert.strictEqual(value(m, 'genix_buffer_backlog_messages', { node: 'sf' }), 0);
    assert.strictEqual(value(m, 'genix_buffer_open', { node: 'sf', name: 'to cloud' }), 1);
    const forwards = value(m, 'genix_node_messages_out_total', { node: 'sf', port: '0' });
    assert.ok(forwards >= 1 && forwards <= 6, `sf forwarded ${forwards} messages or batches`);
    const lat = (m!.genix_delivery_latency_seconds.data as PromHistogramData[]).find((d) => d.labels.buffer === 'sf' && d.labels.outcome === 'ok');
    assert.ok(lat, 'a latency series for sf');
    assert.strictEqual(lat.count, forwards, 'every forward answered once');
    assert.strictEqual(lat.buckets['+Inf'], forwards);
    assert.ok(lat.sum! >= 0 && lat.sum! < 5 * forwards, `latency sum ${lat.sum}`);

    assert.strictEqual(value(m, 'genix_buffer_backlog_messages', { node: 'held' }), 3, 'maxMessages 3');
    assert.strictEqual(value(m, 'genix_buffer_dropped_total', { node: 'held', reason: 'overflow' }), 3);
    assert.strictEqual(value(m, 'genix_buffer_dropped_total', { node: 'held', reason: 'ttl' }), 0);
    assert.ok(value(m, 'genix_buffer_backlog_bytes', { node: 'held' }) > 0);
    assert.ok(value(m, 'genix_buffer_oldest_age_seconds', { node: 'held' }) > 0);
    assert.strictEqual(value(m, 'genix_node_messages_out_total', { node: 'held', port: '0' }), 0);

    assert.strictEqual(value(m, 'genix_ready'), 1);
    assert.strictEqual(value(m, 'genix_flows_started'), 1);
    assert.ok(m!.process_resident_memory_bytes, 'process metrics from prom-client');
  });

  it('the Grafana dashboard queries only metrics the endpoint exports', async () => {
    const { metrics } = await scrape(red.url);
    const exported = new Set<string>();
    for (const [name, fam] of Object.entries(metrics!)) {
      exported.add(name);
      if (fam.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
    }
    const dash = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../deploy/grafana/genix-gateway.json'), 'utf8'));
    const exprs: string[] = [];
    const walk = (panels: any[]) => {
      for (const p of panels ?? []) {
        for (const t of p.targets ?? []) if (typeof t.expr === 'string') exprs.push(t.expr);
        walk(p.panels);
      }
    };
    walk(dash.panels);
    assert.ok(exprs.length >= 10, `${exprs.length} queries`);
    const used = new Set<string>();
    for (const e of exprs) for (const n of promqlMetricNames(e)) used.add(n);
    const missing = [...used].filter((n) => !exported.has(n));
    assert.deepStrictEqual(missing, [], 'metrics the dashboard queries but the endpoint does not export');
    for (const want of ['genix_buffer_backlog_messages', 'genix_delivery_latency_seconds_bucket', 'genix_opcua_session_up', 'genix_alarms_active', 'genix_buffer_dropped_total', 'genix_node_readings_in_total']) {
      assert.ok(used.has(want), `the dashboard shows ${want}`);
    }
  });

  it('ready follows the flows: 503 while stopped, 200 once started again', async () => {
    assert.deepStrictEqual((await getJson(`${red.url}/genix/health/ready`)).status, 200);
    const state = (s: string) => fetch(`${red.url}/flows/state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: s }) });
    assert.strictEqual((await state('stop')).status, 200);
    const stopped = await getJson(`${red.url}/genix/health/ready`);
    assert.strictEqual(stopped.status, 503);
    assert.strictEqual(stopped.body.ready, false);
    assert.ok(stopped.body.reasons.includes('flows are not started'), JSON.stringify(stopped.body));
    assert.strictEqual((await state('start')).status, 200);
    const again = await waitFor(async () => { const r = await getJson(`${red.url}/genix/health/ready`); return r.status === 200 ? r : undefined; }, 'ready after start');
    assert.deepStrictEqual(again!.body.buffers, { total: 2, open: 2 });
  });

  it('live turns false when a function node blocks the event loop, and true again after the window', async () => {
    await waitFor(async () => (await fetch(`${red.url}/genix/health/live`)).status === 200, 'live before the block (start-up stalls are out of the window)');
    await press(red, 'inj-block');
    // answered after the 2.5 s busy loop: the stall is in the window
    const blocked = await waitFor(async () => { const r = await getJson(`${red.url}/genix/health/live`); return r.status === 503 ? r : undefined; }, 'live to fail', 10000);
    assert.strictEqual(blocked!.body.live, false);
    assert.ok(blocked!.body.eventLoopMaxDelayMs >= 1000, JSON.stringify(blocked!.body));
    const m = (await scrape(red.url)).metrics!;
    assert.ok(value(m, 'genix_event_loop_max_delay_seconds') >= 1);
    await waitFor(async () => (await fetch(`${red.url}/genix/health/live`)).status === 200, 'live again once the stall left the 3 s window', 15000);
  });

  it('not ready while a buffer cannot open its file; ready again when it is removed', async () => {
    const blocker = path.join(red.userDir, 'not-a-directory');
    fs.writeFileSync(blocker, 'a file where the buffer wants a folder');
    const deploy = (flows: any[]) => fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    const bad = [...opsFlow(), { id: 'sfbad', type: 'genix-store-forward', z: 'tab', name: 'cannot open', dbPath: path.join(blocker, 'buffer.sqlite'), wires: [[], []] }];
    assert.strictEqual((await deploy(bad)).status, 204);
    // during the deploy itself the flows are stopped: wait for them to run again
    const r = await waitFor(async () => { const x = await getJson(`${red.url}/genix/health/ready`); return x.body.flowsStarted && x.body.buffers.total === 3 ? x : undefined; }, 'the new flows to start');
    assert.strictEqual(r!.status, 503);
    assert.deepStrictEqual(r!.body.reasons, ['store-and-forward buffer sfbad is not open']);
    const m = (await scrape(red.url)).metrics!;
    assert.strictEqual(value(m, 'genix_buffer_open', { node: 'sfbad' }), 0);
    assert.strictEqual(value(m, 'genix_buffer_open', { node: 'sf' }), 1);
    assert.strictEqual((await deploy(opsFlow())).status, 204);
    await waitFor(async () => (await fetch(`${red.url}/genix/health/ready`)).status === 200, 'ready again');
  });
});

describe('operations: OPC-UA session metrics across a real server restart (e2e)', function () {
  this.timeout(90000);
  let red: RedProcess | undefined;
  let plant: PlantOpcuaServer | undefined;

  after(async () => {
    await red?.stop();
    await plant?.stop();
  });

  it('session up, lost and re-established: state, losses and reconnects counted', async () => {
    const port = await freePort();
    plant = await startPlant({ port });
    red = await startRedProcess({
      flows: [
        { id: 'tab', type: 'tab', label: 'opcua' },
        { id: 'ep', type: 'genix-opcua-endpoint', name: 'line PLC', endpointUrl: plant.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', ...fastTiming },
        { id: 'p1', type: 'genix-opcua-poller', z: 'tab', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'batch', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [['out']] },
        { id: 'out', type: 'junction', z: 'tab', wires: [[]] },
      ],
    });
    const metric = async (name: string, labels: Record<string, string> = { endpoint: 'ep' }) => value((await scrape(red!.url)).metrics, name, labels);
    await waitFor(async () => (await metric('genix_opcua_session_up', { endpoint: 'ep', name: 'line PLC' })) === 1, 'session up');
    assert.strictEqual(await metric('genix_opcua_session_state', { endpoint: 'ep', state: 'connected' }), 1);
    assert.strictEqual(await metric('genix_opcua_session_state', { endpoint: 'ep', state: 'reconnecting' }), 0);
    await waitFor(async () => (await metric('genix_node_readings_out_total', { node: 'p1', port: '0' })) > 0, 'readings from the poller');

    await plant.stop();
    plant = undefined;
    await waitFor(async () => (await metric('genix_opcua_session_up')) === 0, 'session down', 15000);
    assert.strictEqual(await metric('genix_opcua_session_losses_total'), 1);
    assert.strictEqual(await metric('genix_opcua_reconnects_total'), 0);

    plant = await startPlant({ port });
    await waitFor(async () => (await metric('genix_opcua_session_up')) === 1, 'session up again', 30000);
    assert.strictEqual(await metric('genix_opcua_reconnects_total'), 1);
    assert.strictEqual(await metric('genix_opcua_session_losses_total'), 1);
  });
});
