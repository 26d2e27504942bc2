// genix-store-forward: accept-and-commit rate through a real runtime, backlog drain rate, memory and disk,
// against raw batched inserts on the same SQLite engine measured in the same run.
// Both engines side by side: this process runs on the engine in force (better-sqlite3 on this Node 20), then runs
// itself again under a Node 22 from the registry with GENIX_SQLITE_ENGINE=node:sqlite (Node 22 cannot load the
// better-sqlite3 built for Node 20, and Node 20 has no node:sqlite), and prints each figure of both legs in pairs.
// GENIX_BENCH_SF_ROWS sets the backlog size (default 1,000,000); GENIX_BENCH_SF_ONE_ENGINE=1 skips the second leg.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import v8 from 'v8';
import vm from 'vm';
import { main, BenchResult } from './lib';
import { startRuntime, pump } from './runtime';
import { openQueue } from '../nodes/lib/store-forward/queue';
import { loadEngine, openDatabase } from '../nodes/lib/store-forward/engine';
import { installNode } from '../scripts/lib/runtimes';

const ROWS = Number(process.env.GENIX_BENCH_SF_ROWS || 1000000);
const mb = (b: number) => b / 1048576;

/** A full garbage collection, with or without --expose-gc on the command line. */
function fullGc(): void {
  if (!global.gc) {
    v8.setFlagsFromString('--expose-gc');
    global.gc = vm.runInNewContext('gc');
  }
  global.gc!();
  global.gc!();
}

function reading(i: number) {
  return { sensorId: `TEMP-${i % 50}`, value: 20 + (i % 1000) / 10, ts: 1700000000000 + i, quality: 'good', unit: 'degC' };
}

/** Raw inserts on the engine in force: 100 rows per transaction, WAL, synchronous FULL, same row shape. */
function rawInserts(dir: string, seconds: number): number {
  const db = openDatabase(path.join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE m (id INTEGER PRIMARY KEY, ts INTEGER, topic TEXT, payload, extra TEXT, size INTEGER, attempts INTEGER DEFAULT 0)');
  const ins = db.prepare('INSERT INTO m (ts, topic, payload, extra, size) VALUES (?, ?, ?, NULL, ?)');
  const tx = (from: number) => db.transaction(() => {
    for (let i = from; i < from + 100; i++) {
      const r = reading(i);
      const p = JSON.stringify(r);
      ins.run(Date.now(), r.sensorId, p, p.length);
    }
  });
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  while (Date.now() < end) {
    tx(n);
    n += 100;
  }
  const rate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  db.close();
  return rate;
}

/** JSON.stringify(reading(i)) built as text: the prefill then leaves no objects behind (V8 tenures reading()'s site after the accept phase). */
function readingText(i: number): string {
  return `{"sensorId":"TEMP-${i % 50}","value":${20 + (i % 1000) / 10},"ts":${1700000000000 + i},"quality":"good","unit":"degC"}`;
}

function prefill(file: string, rows: number, readingsPerRow: number): { jsonBytes: number; rate: number } {
  if (readingText(7) !== JSON.stringify(reading(7))) throw new Error('readingText differs from JSON.stringify(reading)');
  const { queue } = openQueue({ path: file, owner: 'bench-prefill' });
  let jsonBytes = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < rows; ) {
    const n = Math.min(10000, rows - done);
    queue.transaction(() => {
      for (let i = done; i < done + n; i++) {
        let text: string;
        if (readingsPerRow === 1) text = readingText(i);
        else {
          text = '[';
          for (let k = 0; k < readingsPerRow; k++) text += (k ? ',' : '') + readingText(i * readingsPerRow + k);
          text += ']';
        }
        const topic = `TEMP-${i % 50}`;
        // length of JSON.stringify({ topic, payload })
        jsonBytes += text.length + topic.length + 23;
        queue.insert(Date.now(), topic, text, null, text.length + topic.length + 16);
      }
      queue.persistLastId();
    });
    done += n;
  }
  const rate = rows / (Number(process.hrtime.bigint() - t0) / 1e9);
  queue.checkpoint();
  queue.close();
  return { jsonBytes, rate };
}

/** Builds the backlog file in a child process, as another run of Node-RED would have: its generator's garbage is not the backlog's memory. */
function prefillApart(file: string, rows: number, readingsPerRow: number): { jsonBytes: number; rate: number } {
  const r = spawnSync(process.execPath, [__filename], {
    env: { ...process.env, GENIX_BENCH_SF_PREFILL: JSON.stringify([file, rows, readingsPerRow]) },
    encoding: 'utf8',
    maxBuffer: 64 * 1048576,
  });
  const last = String(r.stdout || '').trim().split('\n').pop() || '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`prefill child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(last);
}

function fileBytes(file: string): number {
  let t = 0;
  for (const f of [file, `${file}-wal`]) try { t += fs.statSync(f).size; } catch { /* none */ }
  return t;
}

const ACK = 'msg.delivery.ok = true;\nreturn msg;';

async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-bench-'));
  const raw = rawInserts(dir, 2);
  const engine = loadEngine().name;
  const rawNote = `raw ${engine}, 100 rows/commit, FULL: ${Math.round(raw).toLocaleString('en-US')} rows/s`;
  results.push({ name: `raw ${engine} inserts (100/commit, FULL)`, value: raw, unit: 'rows/s', compare: 'reference for the rows below' });

  const backlogFile = path.join(dir, 'backlog.sqlite');
  const acceptFile = path.join(dir, 'accept.sqlite');
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'sf', z: 'tab', type: 'genix-store-forward', dbPath: acceptFile, startPaused: true, synchronous: 'FULL', maxMessages: 0, replayRate: 0, metricsIntervalMs: 0, wires: [['ack'], []] },
    { id: 'ack', z: 'tab', type: 'function', func: ACK, outputs: 1, wires: [['sf']] },
    { id: 'done', z: 'tab', type: 'complete', scope: ['sf'], uncaught: false, wires: [['count']] },
    { id: 'count', z: 'tab', type: 'junction', wires: [] },
  ];
  const rt = await startRuntime(flows);
  let accepted = 0;
  rt.node('count').on('input', () => { accepted++; });

  // 1) accepted and durably committed (FULL), paused so only the accept path is measured
  const sf = rt.node('sf');
  const total = Number(process.env.GENIX_BENCH_SF_ACCEPT || 200000);
  const acceptRate = await pump(rt, 'sf', (i) => ({ topic: `TEMP-${i % 50}`, payload: reading(i) }), total, () => accepted, 5000);
  results.push({ name: 'accepted + committed (FULL) through Node-RED, done() after commit', value: acceptRate, unit: 'msg/s', target: '>= 50000', compare: rawNote });
  // 2) same, with live forwarding and acknowledgement (deletes) running
  sf.buffer.resume();
  await waitUntil(() => sf.buffer.backlog === 0, 60000);
  const tl = process.hrtime.bigint();
  await pump(rt, 'sf', (i) => ({ topic: `TEMP-${i % 50}`, payload: reading(i) }), total, () => accepted, 5000);
  await waitUntil(() => sf.buffer.backlog === 0, 60000);
  const liveRate = total / (Number(process.hrtime.bigint() - tl) / 1e9);
  results.push({ name: 'accepted + committed + forwarded + acked + deleted, live (FULL)', value: liveRate, unit: 'msg/s', compare: 'until the backlog is empty again' });

  // 3) the backlog: RSS is taken with the runtime and this node type already running, before the backlog exists
  fullGc();
  await new Promise((r) => setTimeout(r, 200));
  fullGc();
  const rss0 = process.memoryUsage().rss;
  const pre = prefillApart(backlogFile, ROWS, 1);
  const disk = fileBytes(backlogFile);
  results.push({ name: `prefill ${ROWS.toLocaleString('en-US')} rows through SqliteQueue (10k/commit)`, value: pre.rate, unit: 'rows/s', compare: `${rawNote}; built in a child process` });
  results.push({ name: 'disk use / JSON size of the stored messages', value: disk / pre.jsonBytes, unit: 'x', target: '<= 2', compare: `${mb(disk).toFixed(1)} MB file, ${mb(pre.jsonBytes).toFixed(1)} MB JSON` });
  // the drain buffer opens the file (and counts its rows) at deploy, paused until its turn
  await rt.RED.nodes.addFlow({
    label: 'drain',
    nodes: [
      { id: 'drain', type: 'genix-store-forward', dbPath: backlogFile, startPaused: true, maxMessages: 0, replayRate: 0, replayBatchSize: 100, maxInFlight: 100, metricsIntervalMs: 0, wires: [['ack2'], []] },
      { id: 'ack2', type: 'function', func: ACK, outputs: 1, wires: [['drain']] },
    ],
  });
  await waitUntil(() => !!rt.node('drain')?.buffer, 30000);
  const drain = rt.node('drain');
  if (drain.buffer.backlog !== ROWS) throw new Error(`drain buffer sees ${drain.buffer.backlog} rows, expected ${ROWS}`);
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  let heapPeak = 0;
  const sampler = setInterval(() => {
    const mu = process.memoryUsage();
    rssPeak = Math.max(rssPeak, mu.rss);
    heapPeak = Math.max(heapPeak, mu.heapUsed);
  }, 20);
  const t0 = process.hrtime.bigint();
  drain.buffer.resume();
  await waitUntil(() => drain.buffer.backlog === 0, 600000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  const m = drain.buffer.metrics();
  results.push({ name: `drain ${ROWS.toLocaleString('en-US')}-message backlog to an acking consumer (batches of 100)`, value: ROWS / secs, unit: 'msg/s', target: '>= 20000', compare: `${(m.deliveredReadings / secs).toFixed(0)} readings/s; ${rawNote}` });
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  results.push({ name: 'RSS growth: peak while holding and draining the backlog − before it existed', value: mb(rssPeak - rss0), unit: 'MB', target: '< 50', compare: `RSS before the backlog ${mb(rss0).toFixed(0)} MB (after GC), at drain start ${mb(rssStart).toFixed(0)} MB, peak ${mb(rssPeak).toFixed(0)} MB; JS heap peak ${mb(heapPeak).toFixed(0)} MB` });
  await rt.stop();

  // 4) batches of 10 readings per stored message: readings/s through the same drain
  const rows10 = Math.max(1000, Math.floor(ROWS / 10));
  const file10 = path.join(dir, 'backlog10.sqlite');
  prefillApart(file10, rows10, 10);
  const rt2 = await startRuntime([
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'drain', z: 'tab', type: 'genix-store-forward', dbPath: file10, maxMessages: 0, replayRate: 0, replayBatchSize: 20, maxInFlight: 100, metricsIntervalMs: 0, wires: [['ack2'], []] },
    { id: 'ack2', z: 'tab', type: 'function', func: ACK, outputs: 1, wires: [['drain']] },
  ]);
  const d2 = rt2.node('drain');
  const t1 = process.hrtime.bigint();
  await waitUntil(() => d2.buffer.backlog === 0, 600000);
  const s2 = Number(process.hrtime.bigint() - t1) / 1e9;
  const readings = d2.buffer.metrics().deliveredReadings;
  results.push({ name: `drain ${rows10.toLocaleString('en-US')} stored batches of 10 readings`, value: readings / s2, unit: 'readings/s', target: '>= 200000', compare: `${Math.round(rows10 / s2).toLocaleString('en-US')} stored msg/s` });
  await rt2.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return results;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The node:sqlite leg: this bench under a Node 22 from the registry (installed as the tests do). */
function nodeSqliteLeg(): BenchResult[] | string {
  let node22: string;
  try {
    node22 = installNode(22).node;
  } catch (err: any) {
    return `no Node 22 for node:sqlite (${String(err.stderr || err.message).trim().split('\n')[0]})`;
  }
  const out = path.join(os.tmpdir(), `genix-bench-sf-node-sqlite-${process.pid}.json`);
  const leg = spawnSync(node22, ['--expose-gc', __filename], {
    stdio: 'inherit',
    env: { ...process.env, GENIX_SQLITE_ENGINE: 'node:sqlite', GENIX_BENCH_SF_ONE_ENGINE: '1', GENIX_BENCH_OUT: out, NODE_NO_WARNINGS: '1' },
  });
  if (leg.status !== 0 || !fs.existsSync(out)) return `node:sqlite leg failed (exit ${leg.status})`;
  const results = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResult[];
  fs.rmSync(out, { force: true });
  return results;
}

/** This engine's figures, then (unless told not to) the node:sqlite leg's, each figure in a pair. */
async function sideBySide(): Promise<BenchResult[]> {
  const label = `[${loadEngine().name}, Node ${process.versions.node.split('.')[0]}]`;
  const own = (await run()).map((r) => ({ ...r, name: `${r.name} ${label}` }));
  if (process.env.GENIX_BENCH_SF_ONE_ENGINE === '1' || loadEngine().name === 'node:sqlite') return own;
  process.stdout.write(`\n${label} done; now the same bench on node:sqlite under Node 22\n`);
  const other = nodeSqliteLeg();
  if (typeof other === 'string') {
    return [...own, { name: 'node:sqlite leg', value: NaN, unit: '', compare: `not measured: ${other}` }];
  }
  const paired: BenchResult[] = [];
  own.forEach((r, i) => {
    paired.push(r);
    const o = other[i];
    if (!o) return;
    const ratio = r.value ? ` (${(o.value / r.value).toFixed(2)}x of better-sqlite3)` : '';
    paired.push({ ...o, compare: `${o.compare ?? ''}${ratio}`.trim() });
  });
  return paired;
}

const child = process.env.GENIX_BENCH_SF_PREFILL;
if (child) {
  const [file, rows, perRow] = JSON.parse(child) as [string, number, number];
  process.stdout.write(`${JSON.stringify(prefill(file, rows, perRow))}\n`);
} else {
  main(sideBySide);
}
