// Model-based test: random sequences of accept / forward / answer ok / answer not ok / late answer from an earlier
// instance / redeploy / kill and reopen / disk full / TTL expiry, run against the real buffer on a real file (on a
// 4 MB tmpfs, so "disk full" is a real ENOSPC), checked after every step against a few-line model: every accepted
// reading is delivered, still stored, or counted as dropped with its reason — never simply gone.
import assert from 'assert';
import fs from 'fs';
import path from 'path';
import fc from 'fast-check';
import { StoreForwardBuffer, Outgoing } from '../../nodes/lib/store-forward';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs';

const tick = () => new Promise<void>((r) => setImmediate(r));

interface Real {
  dir: string;
  file: string;
  b: StoreForwardBuffer;
  clock: { t: number };
  outbox: Outgoing[];
  oldOutbox: Outgoing[];
  nextSeq: number;
  fillers: number;
  /** drops counted by earlier instances on this file (metrics are per instance) */
  droppedBefore: number;
  /** a filler file takes every free byte: acknowledgements may have to wait in memory */
  diskFull: boolean;
}

/** The model: which readings went in, which the cloud confirmed (as the buffer applied it). */
interface Model {
  inputs: Set<number>;
  delivered: Set<number>;
}

const seqsOf = (o: Outgoing): number[] => (Array.isArray(o.payload) ? o.payload : [o.payload]).map((p: any) => p.seq);

function open(r: Real): void {
  r.b = new StoreForwardBuffer({ path: r.file, owner: 'model' }, {
    replayRate: 0, replayBatchSize: 7, maxInFlight: 4, maxMessages: 400, ttlMs: 1000, ackTimeoutMs: 1e9,
    retryMinMs: 0, retryMaxMs: 0, monotonic: () => r.clock.t,
  }, { forward: (o) => r.outbox.push(o) });
}

function storedSeqs(r: Real): Set<number> {
  const stored = new Set<number>();
  const q = r.b.queue;
  for (let after = 0; ;) {
    const rows = q.readAfter(after, Number.MAX_SAFE_INTEGER, 1000);
    if (!rows.length) break;
    for (const row of rows) for (const p of [JSON.parse(String(row.payload))].flat()) stored.add(p.seq);
    after = rows[rows.length - 1].id;
  }
  for (const d of q.readDeadLetters(0, 1e6)) stored.add(JSON.parse(String(d.payload)).seq);
  return stored;
}

/** Every reading that went in is delivered, stored (queue or dead letters) or counted as dropped. */
function check(m: Model, r: Real): void {
  const stored = storedSeqs(r);
  if (!r.diskFull) for (const s of m.delivered) assert.ok(!stored.has(s), `reading ${s} was confirmed but is still stored`);
  let missing = 0;
  for (const s of m.inputs) if (!m.delivered.has(s) && !stored.has(s)) missing++;
  const met = r.b.metrics();
  const dropped = r.droppedBefore + met.dropped;
  assert.ok(missing <= dropped, `${missing} readings are gone but only ${dropped} were counted as dropped (${JSON.stringify(met.drops)})`);
  for (const s of stored) assert.ok(m.inputs.has(s), `unknown reading ${s} stored`);
}

async function settle(r: Real): Promise<void> {
  await tick();
  await tick();
  r.b.commit();
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Accept implements Cmd {
  constructor(readonly n: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < this.n; i++) {
      const seq = r.nextSeq++;
      m.inputs.add(seq);
      waits.push(new Promise((res) => r.b.accept({ payload: { sensorId: 'S', value: seq, seq, pad: 'x'.repeat(200) } }, () => res())));
    }
    await Promise.all(waits);
    await settle(r);
    check(m, r);
  }
  toString = () => `accept(${this.n})`;
}

class Answer implements Cmd {
  constructor(readonly pick: number, readonly ok: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    if (!r.outbox.length) return;
    const [o] = r.outbox.splice(this.pick % r.outbox.length, 1);
    const verdict = r.b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok: this.ok, error: this.ok ? undefined : 'down' });
    if (verdict === null && this.ok) for (const s of seqsOf(o)) m.delivered.add(s);
    await settle(r);
    check(m, r);
  }
  toString = () => `answer(${this.pick}, ${this.ok ? 'ok' : 'not ok'})`;
}

class LateAnswer implements Cmd {
  constructor(readonly pick: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    if (!r.oldOutbox.length) return;
    const o = r.oldOutbox[this.pick % r.oldOutbox.length];
    const before = r.b.metrics().delivered;
    assert.notStrictEqual(r.b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok: true }), null, 'an answer from an earlier instance is refused');
    await settle(r);
    assert.strictEqual(r.b.metrics().delivered, before, 'a late answer deleted rows');
    check(m, r);
  }
  toString = () => `lateAnswer(${this.pick})`;
}

class Redeploy implements Cmd {
  constructor(readonly keepLate: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    // a kill: the SQLite connection goes away with whatever was not committed (acknowledgements held in memory)
    if (!this.keepLate) r.b.queue.close();
    r.b.close();
    r.droppedBefore += r.b.metrics().dropped;
    if (this.keepLate) r.oldOutbox.push(...r.outbox);
    r.outbox = [];
    open(r);
    // acknowledgements not yet committed (a kill, or a full disk) are lost with the instance: at least once,
    // those readings are sent again (the model takes them back as stored)
    if (r.diskFull || !this.keepLate) for (const s of storedSeqs(r)) m.delivered.delete(s);
    await settle(r);
    check(m, r);
  }
  toString = () => (this.keepLate ? 'redeploy' : 'killAndReopen');
}

class DiskFull implements Cmd {
  constructor(readonly full: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.diskFull = this.full;
    if (this.full) {
      // take every free byte of the filesystem
      const fd = fs.openSync(path.join(r.dir, `filler-${r.fillers++}`), 'w');
      try { for (;;) fs.writeSync(fd, Buffer.alloc(65536)); } catch { /* ENOSPC */ }
      try { for (;;) fs.writeSync(fd, Buffer.alloc(512)); } catch { /* ENOSPC */ }
      fs.closeSync(fd);
    } else {
      for (const f of fs.readdirSync(r.dir)) if (f.startsWith('filler-')) fs.unlinkSync(path.join(r.dir, f));
    }
    await settle(r);
    check(m, r);
  }
  toString = () => (this.full ? 'diskFull' : 'spaceBack');
}

class Expire implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.clock.t += this.ms;
    r.b.expire();
    await settle(r);
    check(m, r);
  }
  toString = () => `advance(${this.ms}) + expire`;
}

const commands = [
  fc.integer({ min: 1, max: 60 }).map((n) => new Accept(n)),
  fc.integer({ min: 0, max: 20 }).map((p) => new Answer(p, true)),
  fc.integer({ min: 0, max: 20 }).map((p) => new Answer(p, false)),
  fc.integer({ min: 0, max: 20 }).map((p) => new LateAnswer(p)),
  fc.boolean().map((k) => new Redeploy(k)),
  fc.boolean().map((f) => new DiskFull(f)),
  fc.integer({ min: 0, max: 1500 }).map((ms) => new Expire(ms)),
];

describe('store-forward model', function () {
  this.timeout(180000);
  let dir: string | null = null;
  before(function () { dir = mountTmpfs(this); });
  after(() => { if (dir) unmountTmpfs(dir); });

  let run = 0;
  /** Runs a fixed sequence against a fresh buffer (the shrunk counterexamples, kept as plain regression tests). */
  async function replay(cmds: Cmd[]): Promise<Real> {
    const runDir = path.join(dir!, `fixed-${run++}`);
    fs.mkdirSync(runDir);
    const real: Real = { dir: dir!, file: path.join(runDir, 'm.sqlite'), b: null as any, clock: { t: 0 }, outbox: [], oldOutbox: [], nextSeq: 0, fillers: 0, droppedBefore: 0, diskFull: false };
    open(real);
    const model: Model = { inputs: new Set(), delivered: new Set() };
    try {
      for (const c of cmds) await c.run(model, real);
      return real;
    } finally {
      real.b.close();
      for (const f of fs.readdirSync(dir!)) if (f.startsWith('filler-')) fs.unlinkSync(path.join(dir!, f));
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  }

  it('regression: a reading refused on a full disk is counted, also after a redeploy', async () => {
    await replay([new DiskFull(true), new Accept(1), new Redeploy(false)]);
  });

  it('regression: an acknowledgement that cannot be written on a full disk waits for space, then deletes its row', async () => {
    const r = await replay([new Accept(1), new DiskFull(true), new Answer(0, true), new DiskFull(false), new Accept(1)]);
    assert.strictEqual(r.b.metrics().delivered, 1);
  });

  it('regression: an answer from before a redeploy settles nothing', async () => {
    await replay([new Accept(1), new Redeploy(true), new LateAnswer(0)]);
  });

  it('after every step each accepted reading is delivered, stored, or counted as dropped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 50 }), async (cmds) => {
        const runDir = path.join(dir!, `run-${run++}`);
        fs.mkdirSync(runDir);
        const real: Real = { dir: dir!, file: path.join(runDir, 'm.sqlite'), b: null as any, clock: { t: 0 }, outbox: [], oldOutbox: [], nextSeq: 0, fillers: 0, droppedBefore: 0, diskFull: false };
        open(real);
        try {
          await fc.asyncModelRun(() => ({ model: { inputs: new Set<number>(), delivered: new Set<number>() }, real }), cmds);
          if (process.env.SF_MODEL_DEBUG) console.log(String(cmds), real.nextSeq, real.outbox.length, real.oldOutbox.length);
        } finally {
          real.b.close();
          for (const f of fs.readdirSync(dir!)) if (f.startsWith('filler-')) fs.unlinkSync(path.join(dir!, f));
          fs.rmSync(runDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 300 },
    );
  });
});
