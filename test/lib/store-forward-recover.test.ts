// A corrupt database file (recover.ts, queue.ts): found by PRAGMA quick_check at open or by a read error while
// running; moved aside and kept, the readable rows carried over to a fresh file, the rest counted, never a crash.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { StoreForwardBuffer, Outgoing } from '../../nodes/lib/store-forward';
import { waitFor } from '../helpers/wait';

const PAGE = 4096;

/** Overwrites `count` pages of the file from page `first` on with random bytes. */
function smash(file: string, first: number, count: number): void {
  const fd = fs.openSync(file, 'r+');
  const junk = Buffer.alloc(PAGE * count);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
  fs.writeSync(fd, junk, 0, junk.length, first * PAGE);
  fs.closeSync(fd);
}

async function fill(file: string, n: number): Promise<void> {
  const b = new StoreForwardBuffer({ path: file, owner: 'a' }, {}, { forward: () => undefined });
  b.pause();
  let done = 0;
  for (let i = 0; i < n; i++) b.accept({ payload: { sensorId: `S-${i % 7}`, value: i, seq: i, pad: 'p'.repeat(60) } }, () => { done++; });
  await waitFor(() => done === n, 'stored', 20000);
  b.close();
}

/** Drains the buffer with a cloud that acknowledges everything; returns the seqs received. */
async function drain(b: StoreForwardBuffer, got: number[]): Promise<void> {
  b.resume();
  await waitFor(() => b.backlog === 0, 'drained', 20000);
  for (const s of got) assert.ok(Number.isInteger(s), `a reading came out damaged: ${s}`);
}

/** A buffer on `file` whose cloud acknowledges everything; what it forwarded (by seq) and its faults are kept. */
function ackingBuffer(file: string): { b: StoreForwardBuffer; got: number[]; faults: string[] } {
  const faults: string[] = [];
  const got: number[] = [];
  const b: StoreForwardBuffer = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0 }, {
    forward: (o: Outgoing) => {
      for (const p of [o.payload].flat() as any[]) got.push(p.seq);
      setImmediate(() => b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok: true }));
    },
    fault: (t) => faults.push(t),
  });
  return { b, got, faults };
}

describe('store-forward corrupt file', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-corrupt-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('pages overwritten while closed: quick_check at open quarantines the file, carries the readable rows over, counts the rest', async () => {
    const file = path.join(dir, 'c.sqlite');
    const N = 20000;
    await fill(file, N);
    const size = fs.statSync(file).size;
    smash(file, 200, 6);
    const { b, got } = ackingBuffer(file);
    b.pause();
    const o = b.opened;
    assert.ok(o.movedAside && fs.existsSync(o.movedAside), 'the bad file is kept');
    assert.strictEqual(fs.statSync(o.movedAside!).size, size);
    assert.match(String(o.corruptReason), /quick_check|malformed/);
    assert.ok(o.lost! > 0 && o.lost! < N, `lost ${o.lost}`);
    assert.strictEqual(o.carried! + o.lost!, N, 'every row is carried over or counted');
    assert.strictEqual(b.metrics().drops.corrupt, o.lost);
    assert.strictEqual(b.backlog, o.carried);
    await drain(b, got);
    assert.strictEqual(new Set(got).size, o.carried);
    b.close();
  });

  it('pages overwritten while open: the read error in the replay is no crash; the file is replaced and the count kept', async () => {
    const file = path.join(dir, 'r.sqlite');
    // bigger than the 4 MB page cache, so the replay reads the smashed pages from disk
    const N = 60000;
    await fill(file, N);
    const { b, got, faults } = ackingBuffer(file);
    b.pause();
    assert.ok(!b.opened.movedAside, 'the file was sound at open');
    smash(file, 20, 8);
    // it keeps accepting meanwhile
    let accepted = 0;
    for (let i = N; i < N + 100; i++) b.accept({ payload: { seq: i } }, (err) => { if (!err) accepted++; });
    await drain(b, got);
    assert.ok(faults.some((f) => /corrupt/.test(f)), faults.join(' | '));
    const m = b.metrics();
    assert.ok(b.opened.movedAside && fs.existsSync(b.opened.movedAside));
    assert.ok(m.drops.corrupt > 0, 'the unreadable rows are counted');
    assert.strictEqual(accepted, 100);
    const unique = new Set(got);
    assert.strictEqual(unique.size + m.drops.corrupt, N + 100, `delivered ${unique.size} + lost ${m.drops.corrupt} = everything accepted`);
    b.close();
  });
});
