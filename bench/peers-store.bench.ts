// genix-store-forward against what a user builds without it, side by side, each leg in its own
// process, the limit (raw better-sqlite3, WAL, synchronous=FULL, 100 rows per commit) first:
//  - node-red-contrib-queue-gate, queueing, its queue kept in Node-RED's file-backed persistent
//    context (localfilesystem store, default 30 s flush);
//  - node-red-contrib-simple-message-queue, released one message per trigger (its acknowledgement),
//    in memory; its TTL scan on every message makes it quadratic, so it gets a smaller backlog.
// Figures: messages/s accepted (for genix: done() after the FULL commit; for the peers: taken into
// the node, not yet on disk), backlog drain rate, RSS of the process holding the backlog and the
// heap + buffers the backlog added (after GC), and readings lost when the process is SIGKILLed mid-stream and restarted.
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { main, BenchResult } from './lib';
import { startRuntime, pump } from './runtime';
import { QUICK, ensurePeers, peerUserDir, runLeg, alternate, sideBySide, versionOf, until, gc, tail, Leg, Sample } from './peers/harness';

/** Backlog of genix, raw SQLite and queue-gate; simple-message-queue gets SLOW_BACKLOG (quadratic). */
const BACKLOG = Number(process.env.GENIX_BENCH_SF_ROWS || (QUICK ? 50000 : 1000000));
const GATE_BACKLOG = Math.min(BACKLOG, QUICK ? 50000 : 200000);
const SLOW_BACKLOG = QUICK ? 5000 : 20000;
const KILL_AFTER_MS = 4000;
const FEED_PER_S = 2000;

type Kind = 'raw' | 'ours' | 'gate' | 'smq';
interface LegParams { kind: Kind; backlog: number; dir?: string }

const reading = (i: number) => ({ sensorId: `TEMP-${i % 50}`, value: 20 + (i % 1000) / 10, ts: 1700000000000 + i, quality: 'good', unit: 'degC' });
const rssMb = () => process.memoryUsage().rss / 1048576;
/** JavaScript heap + off-heap buffers, after a full GC: what the backlog itself keeps in memory. */
const heldMb = () => { gc(); const m = process.memoryUsage(); return (m.heapUsed + m.external) / 1048576; };

function rawLeg(p: LegParams): Sample {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-peer-raw-'));
  const held0 = heldMb();
  const db = new Database(path.join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE m (id INTEGER PRIMARY KEY, ts INTEGER, topic TEXT, payload TEXT)');
  const ins = db.prepare('INSERT INTO m (ts, topic, payload) VALUES (?, ?, ?)');
  const put = db.transaction((from: number, n: number) => { for (let i = from; i < from + n; i++) { const r = reading(i); ins.run(Date.now(), r.sensorId, JSON.stringify(r)); } });
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < p.backlog; i += 100) put(i, Math.min(100, p.backlog - i));
  const accept = p.backlog / (Number(process.hrtime.bigint() - t0) / 1e9);
  const held = heldMb() - held0;
  const rss = rssMb();
  const sel = db.prepare('SELECT id, payload FROM m ORDER BY id LIMIT 500');
  const del = db.prepare('DELETE FROM m WHERE id <= ?');
  const take = db.transaction(() => { const rows = sel.all() as Array<{ id: number; payload: string }>; for (const r of rows) JSON.parse(r.payload); if (rows.length) del.run(rows[rows.length - 1].id); return rows.length; });
  t0 = process.hrtime.bigint();
  let drained = 0;
  for (let n; (n = take()) > 0; ) drained += n;
  const drain = drained / (Number(process.hrtime.bigint() - t0) / 1e9);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { acceptPerS: accept, drainPerS: drain, rssMb: rss, heldMb: held };
}

/** The flow of each kind: input node id 'in', everything released arrives at junction 'out', queue length on junction 'st'. */
function flow(kind: Kind, dir: string): { flows: object[]; settings?: object; userDir?: string } {
  const tab = { id: 'tab', type: 'tab', label: 'bench' };
  const status = (scope: string) => [{ id: 'stn', z: 'tab', type: 'status', scope: [scope], wires: [['st']] }, { id: 'st', z: 'tab', type: 'junction', wires: [] }];
  const done = (scope: string) => [{ id: 'cn', z: 'tab', type: 'complete', scope: [scope], uncaught: false, wires: [['acc']] }, { id: 'acc', z: 'tab', type: 'junction', wires: [] }];
  if (kind === 'ours') {
    return { flows: [tab,
      { id: 'in', z: 'tab', type: 'genix-store-forward', dbPath: path.join(dir, 'sf.sqlite'), startPaused: true, synchronous: 'FULL', maxMessages: 0, replayRate: 0, metricsIntervalMs: 0, wires: [['ack'], []] },
      { id: 'ack', z: 'tab', type: 'function', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['in', 'out']] },
      { id: 'out', z: 'tab', type: 'junction', wires: [] }, ...done('in'), ...status('in')] };
  }
  if (kind === 'gate') {
    return { userDir: dir, settings: { contextStorage: { default: { module: 'localfilesystem' } } }, flows: [tab,
      { id: 'in', z: 'tab', type: 'q-gate', controlTopic: 'control', defaultState: 'queueing', openCmd: 'open', closeCmd: 'close', toggleCmd: 'toggle', queueCmd: 'queue', defaultCmd: 'default', triggerCmd: 'trigger', flushCmd: 'flush', resetCmd: 'reset', peekCmd: 'peek', dropCmd: 'drop', statusCmd: 'status', maxQueueLength: 0, keepNewest: false, qToggle: false, persist: true, storeName: 'default', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'junction', wires: [] }, ...status('in')] };
  }
  return { userDir: dir, flows: [tab,
    { id: 'in', z: 'tab', type: 'simple-queue', firstMessageBypass: false, bypassInterval: 0, wires: [['out', 'trig']] },
    { id: 'trig', z: 'tab', type: 'change', rules: [{ t: 'set', p: 'trigger', pt: 'msg', to: 'true', tot: 'bool' }, { t: 'delete', p: 'payload', pt: 'msg' }], wires: [['in']] },
    { id: 'out', z: 'tab', type: 'junction', wires: [] }, ...status('in')] };
}

async function nodeLeg(p: LegParams): Promise<Sample> {
  const dir = p.dir ?? (p.kind === 'ours' ? fs.mkdtempSync(path.join(os.tmpdir(), 'genix-peer-sf-')) : peerUserDir(p.kind === 'gate' ? 'node-red-contrib-queue-gate' : 'node-red-contrib-simple-message-queue'));
  const f = flow(p.kind, dir);
  const rt = await startRuntime(f.flows, { userDir: f.userDir, settings: f.settings });
  let out = 0;
  let accepted = 0;
  let status = '';
  rt.node('out').on('input', (m: any) => { out += Array.isArray(m) ? m.length : 1; });
  rt.node('st').on('input', (m: any) => { status = String(m.status?.text ?? ''); });
  if (p.kind === 'ours') rt.node('acc').on('input', () => { accepted++; });
  const queued = () => (p.kind === 'ours' ? accepted : Number(/(\d+)\s*$/.exec(status)?.[1] ?? 0));
  const input = rt.node('in');
  await new Promise((r) => setTimeout(r, 500));
  const held0 = heldMb();
  const accept = await pump(rt, 'in', (i) => ({ topic: `TEMP-${i % 50}`, payload: reading(i) }), p.backlog, queued, 1000);
  const held = heldMb() - held0;
  const rss = rssMb();
  const t0 = process.hrtime.bigint();
  if (p.kind === 'ours') input.buffer.resume();
  else if (p.kind === 'gate') input.receive({ topic: 'control', payload: 'flush' });
  else input.receive({ trigger: true });
  // genix forwards several stored messages per output message: its own backlog counter says when all are acknowledged
  const drained = () => (p.kind === 'ours' ? input.buffer.backlog === 0 : out >= p.backlog);
  await until(drained, 600000, `drain of ${p.backlog} (${out} out)`);
  const drain = p.backlog / (Number(process.hrtime.bigint() - t0) / 1e9);
  await rt.stop();
  return { acceptPerS: accept, drainPerS: drain, rssMb: rss, heldMb: held };
}

/** Feeds FEED_PER_S messages/s until killed, printing how many the node has accepted so far. */
async function feedLeg(p: LegParams): Promise<void> {
  const f = flow(p.kind, p.dir!);
  const rt = await startRuntime(f.flows, { userDir: f.userDir, settings: f.settings });
  let accepted = 0;
  let status = '';
  rt.node('st').on('input', (m: any) => { status = String(m.status?.text ?? ''); });
  if (p.kind === 'ours') rt.node('acc').on('input', () => { accepted++; });
  const input = rt.node('in');
  let i = 0;
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
  setInterval(() => {
    for (let k = 0; k < FEED_PER_S / 20; k++) input.receive({ topic: `TEMP-${i % 50}`, payload: reading(i++) });
    const n = p.kind === 'ours' ? accepted : Number(/(\d+)\s*$/.exec(status)?.[1] ?? 0);
    process.stdout.write(`${JSON.stringify({ accepted: n })}\n`);
  }, 50);
}

/** After the kill: opens the same files and reports what the node still holds. */
async function countLeg(p: LegParams): Promise<Sample> {
  const f = flow(p.kind, p.dir!);
  const rt = await startRuntime(f.flows, { userDir: f.userDir, settings: f.settings });
  await new Promise((r) => setTimeout(r, 1000));
  let held: number;
  if (p.kind === 'ours') held = rt.node('in').buffer.backlog;
  else {
    let status = '';
    rt.node('st').on('input', (m: any) => { status = String(m.status?.text ?? ''); });
    if (p.kind === 'gate') rt.node('in').receive({ topic: 'control', payload: 'status' });
    else rt.node('in').receive({ queueCount: true });
    await new Promise((r) => setTimeout(r, 500));
    held = Number(/(\d+)\s*$/.exec(status)?.[1] ?? 0);
  }
  await rt.RED.stop();
  return { held };
}

/** SIGKILLs a feeding process mid-stream, restarts on the same files, returns readings accepted before the kill and not held after. */
async function killLeg(kind: Kind): Promise<Sample> {
  const dir = kind === 'ours' ? fs.mkdtempSync(path.join(os.tmpdir(), 'genix-peer-sf-')) : peerUserDir(kind === 'gate' ? 'node-red-contrib-queue-gate' : 'node-red-contrib-simple-message-queue');
  const child = spawn(process.execPath, [__filename, 'feed', JSON.stringify({ kind, backlog: 0, dir })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let accepted = 0;
  let started = false;
  let err = '';
  let buf = '';
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      try { const j = JSON.parse(buf.slice(0, i)); if (j.started) started = true; if (typeof j.accepted === 'number') accepted = j.accepted; } catch { /* log line */ }
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until(() => started || child.exitCode !== null, 60000, 'feeding process started');
    if (!started) throw new Error(`feeding process exited: ${tail(err)}`);
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const { held } = await runLeg(__filename, 'count', { kind, backlog: 0, dir });
  fs.rmSync(dir, { recursive: true, force: true });
  return { lostOnKill: Math.max(0, accepted - held), acceptedBeforeKill: accepted };
}

async function run(): Promise<BenchResult[]> {
  const peers = ensurePeers();
  const gate = peers.find((x) => x.name === 'node-red-contrib-queue-gate')!;
  const smq = peers.find((x) => x.name === 'node-red-contrib-simple-message-queue')!;
  const both = async (kind: Kind, backlog: number): Promise<Sample> => ({ ...(await runLeg(__filename, 'node', { kind, backlog }, 900000)), ...(await killLeg(kind)) });
  const legs: Leg[] = [
    { who: `raw better-sqlite3, WAL, FULL, 100 rows/commit (backlog ${BACKLOG.toLocaleString('en-US')})`, role: 'limit', version: versionOf('better-sqlite3'), run: () => runLeg(__filename, 'raw', { kind: 'raw', backlog: BACKLOG }, 900000) },
    { who: `genix-store-forward, FULL (backlog ${BACKLOG.toLocaleString('en-US')})`, role: 'ours', run: () => both('ours', BACKLOG) },
    { who: `node-red-contrib-queue-gate + localfilesystem context (backlog ${GATE_BACKLOG.toLocaleString('en-US')})`, role: 'peer', version: gate.version, error: gate.error, run: () => both('gate', GATE_BACKLOG) },
    { who: `node-red-contrib-simple-message-queue, trigger per message, in memory (backlog ${SLOW_BACKLOG.toLocaleString('en-US')})`, role: 'peer', version: smq.version, error: smq.error, run: () => both('smq', SLOW_BACKLOG) },
  ];
  const res = await alternate(legs);
  const row = 'genix-store-forward';
  const results: BenchResult[] = [];
  const notes: Record<string, string> = { [legs[2].who]: 'in memory until the context store flushes (30 s)', [legs[3].who]: 'in memory only' };
  for (const [key, metric, unit, better, n] of [
    ['acceptPerS', 'messages/s accepted', 'msg/s', 'higher', notes],
    ['drainPerS', 'backlog drain', 'msg/s', 'higher', {}],
    ['rssMb', 'RSS of the process holding the backlog', 'MB', 'lower', {}],
    ['heldMb', 'heap + buffers grown by the backlog (after GC)', 'MB', 'lower', {}],
    ['lostOnKill', `readings lost on SIGKILL mid-stream (${FEED_PER_S}/s for ${KILL_AFTER_MS / 1000} s)`, 'readings', 'lower', {}],
  ] as const) {
    const side = sideBySide(row, metric, unit, better, legs, res, key, n);
    results.push({ name: `${row}: ${metric}`, value: side.figures[1].median ?? NaN, unit, side });
  }
  return results;
}

const mode = process.argv[2];
if (mode === 'leg' || mode === 'feed') {
  const p: LegParams = JSON.parse(process.argv[mode === 'leg' ? 4 : 3]);
  const leg = mode === 'feed' ? feedLeg(p).then(() => undefined) : process.argv[3] === 'raw' ? Promise.resolve(rawLeg(p)) : process.argv[3] === 'count' ? countLeg(p) : nodeLeg(p);
  leg.then((s) => { if (s) { process.stdout.write(`${JSON.stringify(s)}\n`); process.exit(0); } },
    (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exit(1); });
} else main(run);
