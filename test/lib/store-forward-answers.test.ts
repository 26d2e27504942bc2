// Answers (answers.ts, ledger.ts) on the real buffer and a real file: only an answer that proves what it carried
// settles rows; a poison message goes to the dead letters without holding back the messages behind it.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import fc from 'fast-check';
import { StoreForwardBuffer, Outgoing } from '../../nodes/lib/store-forward';
import { waitFor } from '../helpers/wait';

const seqsOf = (o: Outgoing): number[] => (Array.isArray(o.payload) ? o.payload : [o.payload]).map((p: any) => p.seq);

describe('store-forward answers', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-answers-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('a late answer from before a restart does not delete the rows a new send carries (same seq, same ids)', async () => {
    const file = path.join(dir, 'late.sqlite');
    const first: Outgoing[] = [];
    let b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0 }, { forward: (o) => first.push(o) });
    b.accept({ payload: { seq: 0 } }, () => undefined);
    await waitFor(() => first.length === 1, 'forwarded alone');
    b.close();
    const second: Outgoing[] = [];
    b = new StoreForwardBuffer({ path: file, owner: 'a' }, { replayRate: 0 }, { forward: (o) => second.push(o) });
    for (let i = 1; i < 100; i++) b.accept({ payload: { seq: i } }, () => undefined);
    await waitFor(() => second.length >= 1, 'the replay went out');
    // the old instance's answer names seq 1 and id 1, like the new instance's first send
    assert.strictEqual(second[0].seq, first[0].seq);
    assert.strictEqual(b.answer({ ...first[0], ok: true }), 'foreign-token');
    b.commit();
    assert.strictEqual(b.metrics().delivered, 0);
    assert.strictEqual(b.backlog, 100);
    assert.strictEqual(b.metrics().rejected['foreign-token'], 1);
    b.close();
  });

  it('10,000 fuzzed answers while 1,000 readings wait for a cloud that is down: none deleted, each counted, a bounded number of reports', async () => {
    const out: Outgoing[] = [];
    const faults: string[] = [];
    const b = new StoreForwardBuffer({ path: path.join(dir, 'fuzz.sqlite'), owner: 'a' }, { replayRate: 0, ackTimeoutMs: 600000 }, { forward: (o) => out.push(o), fault: (t) => faults.push(t) });
    for (let i = 0; i < 1000; i++) b.accept({ payload: { seq: i } }, () => undefined);
    await waitFor(() => b.metrics().inFlight === 100 && b.backlog === 1000, 'the in-flight window full, unanswered');
    const real = out.map((o) => ({ buffer: 'sf', ids: o.ids, seq: o.seq, token: o.token, attempt: o.attempt }));
    const ids = fc.oneof(
      fc.constantFrom(...real.map((r) => r.ids)),
      fc.array(fc.integer({ min: -5, max: 1200 }), { maxLength: 50 }),
      fc.integer({ min: 0, max: 20000 }).map((n) => Array.from({ length: n }, (_, i) => i + 1)),
      fc.anything(),
    );
    const forged = fc.record({
      buffer: fc.oneof(fc.constant('sf'), fc.string()),
      ids,
      seq: fc.oneof(fc.constantFrom(...real.map((r) => r.seq)), fc.integer(), fc.string(), fc.double()),
      token: fc.oneof(fc.constant(real[0].token), fc.string(), fc.constant(undefined), fc.anything()),
      ok: fc.oneof(fc.constant(true), fc.constant('true'), fc.constant(1), fc.boolean(), fc.anything()),
      permanent: fc.oneof(fc.boolean(), fc.anything()),
      retryAfterMs: fc.oneof(fc.integer(), fc.double(), fc.anything()),
    }, { requiredKeys: [] });
    // a real answer with one thing changed proves nothing either
    const tampered = fc.tuple(fc.constantFrom(...real), fc.integer({ min: 0, max: 3 })).map(([r, k]) => {
      const d: any = { ...r, ok: true };
      if (k === 0) d.ids = [...r.ids, r.ids[r.ids.length - 1] + 1];
      else if (k === 1) d.ids = r.ids.slice(1);
      else if (k === 2) d.seq = r.seq + 1000;
      else d.token = r.token + 'x';
      return d;
    });
    const answers = fc.sample(fc.oneof(forged, tampered, fc.anything()), { numRuns: 10000, seed: 42 });
    let applied = 0;
    for (const a of answers) {
      const exact = a && typeof a === 'object' && real.some((r) => r.token === (a as any).token && r.seq === (a as any).seq &&
        Array.isArray((a as any).ids) && (a as any).ids.length === r.ids.length && r.ids.every((x, i) => (a as any).ids[i] === x));
      const verdict = b.answer(a as any);
      if (verdict === null) {
        applied++;
        assert.ok(exact, `an answer that does not repeat what was sent was applied: ${JSON.stringify(a).slice(0, 200)}`);
      }
    }
    b.commit();
    const m = b.metrics();
    assert.strictEqual(m.delivered, 0, 'nothing was delivered, so nothing may be deleted');
    assert.strictEqual(m.backlog, 1000);
    assert.strictEqual(m.rejectedAnswers, answers.length - applied);
    assert.ok(faults.length <= 2, `reports are rate-limited: ${faults.length}`);
    b.close();
  });

  describe('poison message', () => {
    /** A cloud answering each send at once: readings with bad: true get `fail`, the others ok. */
    async function runPoison(fail: 'permanent' | 'transient' | 'silent') {
      const delivered: number[] = [];
      const b: StoreForwardBuffer = new StoreForwardBuffer({ path: path.join(dir, `${fail}.sqlite`), owner: 'a' }, {
        replayRate: 0, retryMinMs: 10, retryMaxMs: 40, maxAttempts: 4, ackTimeoutMs: 100,
      }, {
        forward: (o) => {
          const bad = (Array.isArray(o.payload) ? o.payload : [o.payload]).some((p: any) => p.bad);
          if (bad && fail === 'silent') return; // the cloud side throws: no answer ever comes back
          setImmediate(() => {
            if (!bad) {
              delivered.push(...seqsOf(o));
              b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok: true });
            } else b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok: false, permanent: fail === 'permanent', error: 'rejected' });
          });
        },
      });
      // a live stream: the poison reading among others, more behind it
      let seq = 0;
      const feed = setInterval(() => { for (let k = 0; k < 5; k++, seq++) b.accept({ payload: { seq, bad: seq === 10 } }, () => undefined); }, 10);
      try {
        await waitFor(() => b.metrics().deadLetters === 1, 'the poison reading dead-lettered', 20000);
        clearInterval(feed);
        await waitFor(() => b.backlog === 0, 'everything else delivered', 10000);
      } finally {
        clearInterval(feed);
      }
      const dl = b.readDeadLetters();
      assert.strictEqual((dl[0].payload as any).seq, 10);
      const unique = [...new Set(delivered)].sort((x, y) => x - y);
      assert.deepStrictEqual(unique, Array.from({ length: seq }, (_, i) => i).filter((s) => s !== 10), 'every other reading delivered');
      b.close();
    }

    it('refused for good (permanent): dead-lettered, the rest delivered', () => runPoison('permanent'));
    it('failing transiently forever: dead-lettered after maxAttempts once the readings behind it get through', () => runPoison('transient'));
    it('never answered (it throws downstream): dead-lettered after maxAttempts ack timeouts', () => runPoison('silent'));

    /**
     * A real outage: every send fails until the uplink comes back. After maxAttempts failures rows 0 and 1 go out
     * alone, the head as the suspect's probe and row 1 as its companion. The uplink comes back the moment the send
     * of row `backOn` leaves (the cloud's state when a send leaves decides its answer), so both races are run, not left
     * to timing.
     */
    async function runOutage(backOn: 0 | 1): Promise<number[]> {
      let up = false;
      const firsts: number[] = [];
      const seen = new Set<number>();
      const b: StoreForwardBuffer = new StoreForwardBuffer({ path: path.join(dir, 'outage.sqlite'), owner: 'a' }, {
        replayRate: 0, retryMinMs: 5, retryMaxMs: 10, maxAttempts: 3,
      }, {
        forward: (o) => {
          const seqs = seqsOf(o);
          if (!up && b.metrics().failures >= 30 && seqs.length === 1 && seqs[0] === backOn) up = true;
          const ok = up;
          if (ok) for (const s of seqs) if (!seen.has(s)) { seen.add(s); firsts.push(s); }
          setImmediate(() => b.answer({ seq: o.seq, token: o.token, ids: o.ids, ok, error: 'down' }));
        },
      });
      try {
        for (let i = 0; i < 200; i++) b.accept({ payload: { seq: i } }, () => undefined);
        await waitFor(() => up, `the uplink back as row ${backOn} is sent alone`, 10000);
        await waitFor(() => b.backlog === 0, 'delivered after the outage', 10000);
        assert.strictEqual(b.metrics().deadLetters, 0, 'an outage dead-letters nothing');
        assert.strictEqual(b.metrics().delivered, 200);
      } finally {
        b.close();
      }
      return firsts;
    }

    it('a real outage dead-letters nothing: back before the suspect head\'s probe, every row arrives oldest first', async () => {
      assert.deepStrictEqual(await runOutage(0), Array.from({ length: 200 }, (_, i) => i));
    });

    it('a real outage dead-letters nothing: back between the suspect head and its companion, only the companion arrives ahead of it', async () => {
      // the companion (row 1) proves the cloud works; the head gets its last try, gets through, and the rest follows in order
      assert.deepStrictEqual(await runOutage(1), [1, 0, ...Array.from({ length: 198 }, (_, i) => i + 2)]);
    });
  });
});
