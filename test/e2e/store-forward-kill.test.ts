// kill -9 of a real Node-RED child mid-stream and mid-replay: every message the buffer accepted
// (HTTP 200 from a Complete node = done() after the commit) must reach the "cloud" after a restart.
import assert from 'assert';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { fork, ChildProcess } from 'child_process';
import Database from 'better-sqlite3';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/wait';

interface Cloud {
  url: string;
  mode: 'ok' | 'down';
  /** every seq received with a 2xx answer, in arrival order (duplicates kept) */
  arrivals: number[];
  unique: Set<number>;
  close(): Promise<void>;
}

async function startCloud(): Promise<Cloud> {
  const port = await freePort();
  const cloud: Cloud = { url: `http://127.0.0.1:${port}/ingest`, mode: 'ok', arrivals: [], unique: new Set(), close: async () => undefined };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (cloud.mode === 'down') {
        res.writeHead(503);
        res.end('down');
        return;
      }
      const p = JSON.parse(body);
      for (const r of Array.isArray(p) ? p : [p]) {
        cloud.arrivals.push(r.seq);
        cloud.unique.add(r.seq);
      }
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  cloud.close = () => new Promise<void>((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); });
  return cloud;
}

function flows(cloudUrl: string, sf: Record<string, unknown>): object[] {
  return [
    { id: 'tab1', type: 'tab', label: 'store-forward e2e' },
    { id: 'in', z: 'tab1', type: 'http in', url: '/reading', method: 'post', wires: [['sf']] },
    { id: 'sf', z: 'tab1', type: 'genix-store-forward', name: 'buffer', retryMinMs: 100, retryMaxMs: 400, ackTimeoutMs: 5000, metricsIntervalMs: 0, ...sf, wires: [['publish'], []] },
    { id: 'accepted', z: 'tab1', type: 'complete', scope: ['sf'], uncaught: false, wires: [['reply']] },
    { id: 'refused', z: 'tab1', type: 'catch', scope: ['sf'], uncaught: false, wires: [['fail']] },
    { id: 'fail', z: 'tab1', type: 'change', rules: [{ t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' }], wires: [['reply']] },
    { id: 'reply', z: 'tab1', type: 'http response', statusCode: '', wires: [] },
    { id: 'publish', z: 'tab1', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: cloudUrl, senderr: false, wires: [['ack']] },
    { id: 'ack', z: 'tab1', type: 'function', outputs: 1, func: 'msg.delivery.ok = msg.statusCode >= 200 && msg.statusCode < 300;\nif (!msg.delivery.ok) msg.delivery.error = String(msg.statusCode);\nreturn msg;', wires: [['sf']] },
  ];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function post(url: string, body: object): Promise<number> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

/** Posts seqs from..to-1, `parallel` requests at a time; adds the seqs answered 200 (accepted) to the set. */
async function feed(red: RedProcess, from: number, to: number, accepted: Set<number>, stop: () => boolean = () => false, parallel = 16): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to && !stop()) {
      const seq = next++;
      const code = await post(`${red.url}/reading`, { sensorId: `S-${seq % 5}`, value: seq, ts: Date.now(), quality: 'good', seq });
      if (code === 200) accepted.add(seq);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

describe('genix-store-forward e2e: kill -9 of Node-RED', function () {
  this.timeout(90000);
  let userDir: string;
  let cloud: Cloud;
  let red: RedProcess | null = null;

  beforeEach(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-kill-'));
    cloud = await startCloud();
  });
  afterEach(async () => {
    if (red) await red.kill('SIGKILL');
    red = null;
    await cloud.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('mid-stream: every accepted message arrives after the restart', async () => {
    const f = flows(cloud.url, { replayRate: 0 });
    red = await startRedProcess({ userDir, flows: f });
    const accepted = new Set<number>();
    let killed = false;
    const feeding = feed(red, 0, 100000, accepted, () => killed);
    await waitFor(() => accepted.size >= 1500, '1500 accepted', 30000);
    await red.kill('SIGKILL');
    killed = true;
    await feeding;
    const deliveredBeforeRestart = cloud.unique.size;
    red = await startRedProcess({ userDir, port: red.port });
    await waitFor(() => [...accepted].every((s) => cloud.unique.has(s)), `all ${accepted.size} accepted messages delivered`, 30000);
    assert.ok(accepted.size >= 1500);
    for (const s of cloud.unique) assert.ok(s >= 0 && s < 100000, `unknown seq ${s}`);
    assert.ok(deliveredBeforeRestart > 0, 'it was forwarding before the kill');
    const res = await fetch(`${red.url}/genix/store-forward/sf/metrics`);
    const m: any = await res.json();
    await waitFor(async () => ((await (await fetch(`${red!.url}/genix/store-forward/sf/metrics`)).json()) as any).backlog === 0, 'empty backlog', 10000);
    assert.strictEqual(typeof m.backlog, 'number');
  });

  it('mid-replay: the rest of the backlog arrives after the restart, oldest first', async () => {
    const f = flows(cloud.url, { replayRate: 300, replayBatchSize: 20 });
    red = await startRedProcess({ userDir, flows: f });
    cloud.mode = 'down';
    const accepted = new Set<number>();
    // one request at a time, so the stored order is the seq order
    await feed(red, 0, 1000, accepted, () => false, 1);
    assert.strictEqual(accepted.size, 1000, 'all 1000 accepted while the cloud is down');
    assert.strictEqual(cloud.unique.size, 0);
    cloud.mode = 'ok';
    await waitFor(() => cloud.unique.size >= 200, '200 replayed', 30000);
    await red.kill('SIGKILL');
    const before = cloud.unique.size;
    assert.ok(before < 1000, `killed mid-replay (${before} delivered)`);
    red = await startRedProcess({ userDir, port: red.port });
    await waitFor(() => cloud.unique.size === 1000, 'all 1000 delivered after the restart', 30000);
    // first arrivals are in order: replay resumes from the oldest undelivered message
    const seen = new Set<number>();
    const firsts: number[] = [];
    for (const s of cloud.arrivals) if (!seen.has(s)) { seen.add(s); firsts.push(s); }
    for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i] > firsts[i - 1], `order broken at ${i}: ${firsts[i - 1]} then ${firsts[i]}`);
  });

  it('20 kills at random moments mid-commit and mid-delete: count = stored − delivered, exactly; nothing accepted is lost', async function () {
    this.timeout(120000);
    const file = path.join(userDir, 'kill.sqlite');
    const accepted = new Set<number>();
    const delivered = new Set<number>();
    let fed = 0;
    let rowsInFile = 0;
    const readFile = (): number[] => {
      const db = new Database(file, { timeout: 5000 });
      try {
        return (db.prepare('SELECT payload FROM messages ORDER BY id').all() as Array<{ payload: string }>).map((r) => JSON.parse(r.payload).seq);
      } finally {
        db.close();
      }
    };
    const start = async (): Promise<{ child: ChildProcess; tell: (m: object) => void }> => {
      const child = fork(path.join(__dirname, 'store-forward-kill-child.js'), [file], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // sends to a child being killed fail with EPIPE: that is the point of the test, not an error
      const tell = (m: object) => { if (child.connected) child.send(m, () => undefined); };
      child.on('error', () => undefined);
      child.on('message', (m: any) => {
        if (m.t === 'acc') for (let i = m.from; i < m.to; i++) accepted.add(i);
        else if (m.t === 'fwd') {
          // the cloud has these readings once it answers ok
          for (const s of m.seqs) delivered.add(s);
          tell({ ...m, t: 'ans', ok: true });
        }
      });
      const open: any = await new Promise((resolve, reject) => {
        child.on('message', (m: any) => { if (m.t === 'open') resolve(m); });
        child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
      });
      // count = stored − delivered, exactly: the buffer's count is the rows left in the file by the killed process
      assert.strictEqual(open.backlog, rowsInFile, 'the buffer counts exactly the rows in the file');
      return { child, tell };
    };
    for (let round = 0; round < 20; round++) {
      const { child, tell } = await start();
      const feeder = setInterval(() => tell({ t: 'feed', from: fed, to: (fed += 50) }), 2);
      await new Promise((res) => setTimeout(res, 50 + Math.floor(Math.random() * 300)));
      const gone = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      clearInterval(feeder);
      await gone;
      const stored = readFile();
      rowsInFile = stored.length;
      const inFile = new Set(stored);
      assert.strictEqual(inFile.size, stored.length, `round ${round}: a reading is stored twice`);
      for (const s of accepted) if (!delivered.has(s)) assert.ok(inFile.has(s), `round ${round}: reading ${s} was accepted, never delivered, and is not stored`);
      for (const s of inFile) assert.ok(s < fed, `round ${round}: unknown reading ${s} stored`);
    }
    const { child: last } = await start();
    try {
      await waitFor(() => [...accepted].every((s) => delivered.has(s)), `all ${accepted.size} accepted readings delivered`, 30000);
    } finally {
      last.kill('SIGKILL');
    }
    assert.ok(accepted.size > 2000, `enough traffic: ${accepted.size}`);
    console.log(`      ${accepted.size} readings accepted over 20 kills, all delivered; ${rowsInFile} rows in the file at the last kill`);
  });
});
