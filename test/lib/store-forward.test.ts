// The store-and-forward core without Node-RED: queue file, engine, token bucket, backoff, codec.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { openDatabase, openQueue, StoreInUseError, StoreForwardBuffer, Outgoing, TokenBucket, Backoff, encodeMessage, decodePayload } from '../../nodes/lib/store-forward';
import { waitFor } from '../helpers/wait';

describe('store-forward core', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-lib-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  describe('TokenBucket', () => {
    it('hands out rate tokens per second up to its capacity', () => {
      const b = new TokenBucket(100, 50, 0);
      assert.strictEqual(b.take(80, 0), 50);
      assert.strictEqual(b.take(10, 0), 0);
      assert.strictEqual(b.waitMs(20, 0), 200);
      assert.strictEqual(b.take(100, 100), 10);
      assert.strictEqual(b.take(100, 10000), 50, 'never more than the capacity');
    });
    it('rate 0 is unlimited', () => {
      const b = new TokenBucket(0, 10);
      assert.strictEqual(b.take(1e6), 1e6);
      assert.strictEqual(b.waitMs(1e6), 0);
    });
  });

  describe('Backoff', () => {
    it('doubles per failure within [half, full] of the step, capped, and resets', () => {
      const lo = new Backoff(100, 1000, () => 0);
      assert.deepStrictEqual([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 400, 500]);
      const hi = new Backoff(100, 1000, () => 1);
      assert.deepStrictEqual([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000]);
      hi.reset();
      assert.strictEqual(hi.next(), 100);
    });
  });

  describe('codec', () => {
    it('keeps JSON values and Buffers, and refuses what JSON cannot hold', () => {
      const e = encodeMessage({ topic: 7, payload: { a: [1, 'x'] }, plant: 'P' }, ['plant']);
      assert.strictEqual(e.topic, '7');
      assert.deepStrictEqual(decodePayload(e.payload), { a: [1, 'x'] });
      assert.strictEqual(e.extra, '{"plant":"P"}');
      const b = encodeMessage({ payload: Buffer.from([1, 2]) }, []);
      assert.ok(Buffer.isBuffer(b.payload));
      assert.strictEqual(encodeMessage({}, []).payload, null);
      assert.throws(() => encodeMessage({ payload: () => 1 }, []), /cannot be stored/);
      assert.throws(() => encodeMessage({ payload: { n: BigInt(2) } }, []), /cannot be stored/);
    });
  });

  describe('SqliteQueue', () => {
    it('counts rows and bytes, keeps ids increasing across reopen even when empty', () => {
      const file = path.join(dir, 'q.sqlite');
      let { queue } = openQueue({ path: file, owner: 'a' });
      queue.transaction(() => { for (let i = 0; i < 10; i++) queue.insert(1000 + i, 't', `{"i":${i}}`, null, 10); queue.persistLastId(); });
      assert.strictEqual(queue.count, 10);
      assert.strictEqual(queue.bytes, 100);
      assert.deepStrictEqual(queue.deleteRange(1, 10), { count: 10, bytes: 100 });
      queue.close();
      ({ queue } = openQueue({ path: file, owner: 'a' }));
      assert.strictEqual(queue.count, 0);
      queue.transaction(() => { assert.strictEqual(queue.insert(2000, null, null, null, 1), 11); queue.persistLastId(); });
      queue.close();
    });

    it('rolls the counters back with a failed transaction', () => {
      const { queue } = openQueue({ path: path.join(dir, 'r.sqlite'), owner: 'a' });
      assert.throws(() => queue.transaction(() => { queue.insert(1, 't', '1', null, 5); throw new Error('boom'); }), /boom/);
      assert.strictEqual(queue.count, 0);
      assert.strictEqual(queue.lastId, 0);
      queue.close();
    });

    it('drops the oldest, expires by accept time, dead-letters and requeues', () => {
      const { queue } = openQueue({ path: path.join(dir, 'd.sqlite'), owner: 'a' });
      queue.transaction(() => { for (let i = 1; i <= 20; i++) queue.insert(i * 10, 't', String(i), null, 10); queue.persistLastId(); });
      assert.deepStrictEqual(queue.dropOldest(3, 0), { count: 3, bytes: 30, through: 3 });
      const ex = queue.expireBefore(65);
      assert.strictEqual(ex.count, 3);
      assert.strictEqual(ex.through, 6);
      queue.deadLetter(7, 7, 'bad', 123);
      assert.strictEqual(queue.deadLetters, 1);
      assert.strictEqual(queue.count, 13);
      const dl = queue.readDeadLetters();
      assert.strictEqual(dl[0].id, 7);
      assert.strictEqual(dl[0].error, 'bad');
      assert.strictEqual(queue.requeueDeadLetters(), 1);
      assert.strictEqual(queue.deadLetters, 0);
      assert.strictEqual(queue.count, 14);
      assert.deepStrictEqual(queue.readAfter(19, 1e9, 10).map((r) => r.payload), ['20', '7']);
      queue.close();
    });

    it('refuses a second owner in this process and a second process (SQLite lock)', () => {
      const file = path.join(dir, 'l.sqlite');
      const { queue } = openQueue({ path: file, owner: 'a' });
      assert.throws(() => openQueue({ path: file, owner: 'b' }), StoreInUseError);
      // another connection stands in for another process: the EXCLUSIVE lock keeps it out
      const other = openDatabase(file, { timeoutMs: 0 });
      assert.throws(() => other.prepare('SELECT count(*) FROM messages').get(), /locked/);
      other.close();
      queue.close();
      const again = openQueue({ path: file, owner: 'b' });
      again.queue.close();
    });

    it('moves a corrupt file aside and starts fresh', () => {
      const file = path.join(dir, 'c.sqlite');
      fs.writeFileSync(file, 'this is not a database'.repeat(500));
      const r = openQueue({ path: file, owner: 'a' });
      assert.ok(r.movedAside && fs.existsSync(r.movedAside));
      assert.match(r.movedAside!, /c\.sqlite\.corrupt-/);
      assert.strictEqual(r.queue.count, 0);
      r.queue.close();
    });
  });

  describe('StoreForwardBuffer', () => {
    it('calls back only after the commit, forwards in order and deletes on ack', async () => {
      const out: Outgoing[] = [];
      const b = new StoreForwardBuffer({ path: path.join(dir, 'b.sqlite'), owner: 'a' }, { replayRate: 0 }, { forward: (o) => out.push(o) });
      const acceptedAt: number[] = [];
      for (let i = 0; i < 50; i++) b.accept({ payload: { seq: i } }, (err) => { assert.ifError(err); acceptedAt.push(b.queue.count); });
      assert.strictEqual(acceptedAt.length, 0, 'nothing is accepted before the group commit');
      await waitFor(() => acceptedAt.length === 50, 'accepted');
      assert.ok(acceptedAt.every((c) => c === 50), 'each callback ran with its row committed');
      await waitFor(() => out.length > 0, 'forwarded');
      for (const o of out) b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
      await waitFor(() => out.reduce((n, o) => n + o.ids.length, 0) === 50, 'all forwarded');
      for (const o of out.slice(-1)) b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
      await waitFor(() => b.backlog === 0, 'deleted');
      const seqs = out.flatMap((o) => (Array.isArray(o.payload) ? o.payload : [o.payload]).map((p: any) => p.seq));
      assert.deepStrictEqual(seqs, Array.from({ length: 50 }, (_, i) => i));
      b.close();
    });

    it('keeps readings in flight within maxInFlightReadings however many messages maxInFlight allows', async () => {
      const file = path.join(dir, 'mir.sqlite');
      const pre = new StoreForwardBuffer({ path: file, owner: 'a' }, {}, { forward: () => undefined });
      pre.pause();
      // stored messages of 1 to 3 readings each
      for (let i = 0; i < 600; i++) pre.accept({ payload: Array.from({ length: 1 + (i % 3) }, (_, k) => ({ i, k })) }, () => undefined);
      pre.close();
      const held: Outgoing[] = [];
      let inFlight = 0;
      let peak = 0;
      let largest = 0;
      const b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0, replayBatchSize: 40, maxInFlight: 1000, maxInFlightReadings: 100 }, {
        forward: (o) => { held.push(o); inFlight += o.readings; peak = Math.max(peak, inFlight); largest = Math.max(largest, o.readings); },
      });
      const got: Array<{ i: number; k: number }> = [];
      while (got.length < 1200) {
        await waitFor(() => held.length > 0, 'something forwarded', 3000);
        // answer in bursts so the window fills up again between them
        for (const o of held.splice(0)) {
          got.push(...(o.payload as any[]));
          inFlight -= o.readings;
          b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
        }
      }
      // a send is sized to the room left in stored messages, so it can overshoot by the extra readings of those messages only
      assert.ok(peak <= 100 + 2 * 40, `at most ~100 readings in flight, saw ${peak}`);
      assert.ok(largest > 1, 'backlog rows still travel in batches');
      assert.deepStrictEqual(got.map((r) => `${r.i}.${r.k}`), Array.from({ length: 600 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, k) => `${i}.${k}`)).flat());
      await waitFor(() => b.backlog === 0, 'drained');
      b.close();
    });

    it('after a failure rewinds, rows still in flight are not sent again until answered; counts rows in flight', async () => {
      const file = path.join(dir, 'rewind.sqlite');
      const pre = new StoreForwardBuffer({ path: file, owner: 'a' }, {}, { forward: () => undefined });
      pre.pause();
      for (let i = 0; i < 50; i++) pre.accept({ payload: { i } }, () => undefined);
      pre.close();
      const held: Outgoing[] = [];
      const b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0, replayBatchSize: 10, maxInFlight: 3, retryMinMs: 1, retryMaxMs: 1 }, {
        forward: (o) => { held.push(o); },
      });
      await waitFor(() => held.length === 3, 'three batches in flight', 3000);
      assert.strictEqual(b.metrics().inFlightMessages, 30);
      const [first, second, third] = held.splice(0);
      // a late answer naming rows in flight must not delete them behind their message's back
      b.reply({ ids: second.ids, ok: true });
      b.reply({ seq: first.seq, token: first.token, ids: first.ids, ok: false, error: 'x' });
      assert.strictEqual(b.metrics().inFlightMessages, 20);
      // the retry replays rows 1-10, skips 11-30 (in flight) and goes on with 31-50
      await waitFor(() => held.length >= 1, 'resent after the wait', 3000);
      const probe = held.shift()!;
      assert.deepStrictEqual(probe.ids, first.ids, 'the failed batch goes first');
      b.reply({ seq: probe.seq, token: probe.token, ids: probe.ids, ok: true });
      await waitFor(() => held.length >= 1, 'the next batch after the probe', 3000);
      const next = held.shift()!;
      assert.deepStrictEqual(next.ids, Array.from({ length: 10 }, (_, k) => 31 + k), 'rows 11-30 are in flight, so 31-40 come next');
      for (const o of [second, third, next, ...held.splice(0)]) b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
      while (b.backlog > 0) {
        await waitFor(() => held.length > 0 || b.backlog === 0, 'more forwarded', 3000);
        for (const o of held.splice(0)) b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
      }
      assert.strictEqual(b.metrics().delivered, 50);
      assert.strictEqual(b.metrics().inFlightMessages, 0);
      b.close();
    });

    it('replay batches join stored JSON into one flat array; rows that cannot share a batch go alone, in order', async () => {
      const file = path.join(dir, 'join.sqlite');
      const pre = new StoreForwardBuffer({ path: file, owner: 'a' }, { storeProperties: ['plant'] }, { forward: () => undefined });
      pre.pause();
      const msgs: any[] = [
        { topic: 'a', payload: { n: 1 } }, { topic: 'a', payload: [{ n: 2 }, { n: 3 }] }, { topic: 'a', payload: [] },
        { topic: 'a', payload: 'text' }, { topic: 'b', payload: { n: 4 } }, { topic: 'a', payload: { n: 5 } },
        { payload: Buffer.from([7]) }, { topic: 'a', payload: { n: 6 }, plant: 'P' }, { topic: 'a', payload: { s: 'x,]"' } },
      ];
      for (const m of msgs) pre.accept(m, () => undefined);
      pre.close();
      const out: Outgoing[] = [];
      const b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0, replayBatchSize: 10, storeProperties: ['plant'] }, {
        forward: (o) => { out.push(o); setImmediate(() => b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true })); },
      });
      await waitFor(() => b.backlog === 0, 'drained');
      const shape = out.map((o) => ({ ids: o.ids, batch: o.batch, topic: o.topic, payload: Buffer.isBuffer(o.payload) ? 'buf' : o.payload, extra: o.extra, readings: o.readings }));
      assert.deepStrictEqual(shape, [
        { ids: [1, 2, 3], batch: true, topic: 'a', payload: [{ n: 1 }, { n: 2 }, { n: 3 }], extra: undefined, readings: 3 },
        { ids: [4], batch: false, topic: 'a', payload: 'text', extra: undefined, readings: 1 },
        { ids: [5, 6], batch: true, topic: undefined, payload: [{ n: 4 }, { n: 5 }], extra: undefined, readings: 2 },
        { ids: [7], batch: false, topic: undefined, payload: 'buf', extra: undefined, readings: 1 },
        { ids: [8], batch: false, topic: 'a', payload: { n: 6 }, extra: { plant: 'P' }, readings: 1 },
        { ids: [9], batch: true, topic: 'a', payload: [{ s: 'x,]"' }], extra: undefined, readings: 1 },
      ]);
      b.close();
    });

    it('live-first: gives live data slots while a long backlog replays at the paced rate', async () => {
      const file = path.join(dir, 'live.sqlite');
      const pre = new StoreForwardBuffer({ path: file, owner: 'a' }, {}, { forward: () => undefined });
      pre.pause();
      for (let i = 0; i < 2000; i++) pre.accept({ payload: { seq: i } }, () => undefined);
      pre.close();
      const out: Outgoing[] = [];
      const b = new StoreForwardBuffer({ path: file, owner: 'a' }, { order: 'live-first', replayRate: 500, replayBatchSize: 50, maxInFlight: 4 }, {
        forward: (o) => { out.push(o); setImmediate(() => b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true })); },
      });
      b.accept({ payload: { seq: 'live' } }, () => undefined);
      await waitFor(() => out.some((o) => (o.payload as any).seq === 'live'), 'the live message forwarded', 3000);
      assert.ok(b.backlog > 1000, `live went out while the backlog still had ${b.backlog} rows`);
      b.close();
    });

    it('fifo (default): live data waits for the backlog, so everything is forwarded in the order it was stored', async () => {
      const file = path.join(dir, 'fifo.sqlite');
      const pre = new StoreForwardBuffer({ path: file, owner: 'a' }, {}, { forward: () => undefined });
      pre.pause();
      for (let i = 0; i < 2000; i++) pre.accept({ payload: { seq: i } }, () => undefined);
      pre.close();
      const seen: number[] = [];
      const b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 5000, replayBatchSize: 50, maxInFlight: 4 }, {
        forward: (o) => {
          for (const p of (Array.isArray(o.payload) ? o.payload : [o.payload]) as Array<{ seq: number }>) seen.push(p.seq);
          setImmediate(() => b.reply({ seq: o.seq, token: o.token, ids: o.ids, ok: true }));
        },
      });
      for (let i = 2000; i < 2100; i++) b.accept({ payload: { seq: i } }, () => undefined);
      await waitFor(() => seen.length >= 2100, 'all 2,100 messages forwarded', 5000);
      assert.deepStrictEqual(seen, Array.from({ length: 2100 }, (_, i) => i));
      b.close();
    });
  });
});
