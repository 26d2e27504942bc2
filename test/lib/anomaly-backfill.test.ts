// Backfilled readings (OPC-UA history after an outage, `backfill: true`) are history to the detector:
// a live detector leaves them alone; a history detector judges only them and marks its events.
import assert from 'assert';
import { AnomalyDetector, AnomalyEvent } from '../../nodes/lib/anomaly/detector';
import type { AnomalyRule } from '../../nodes/lib/anomaly/rules';
import type { Reading } from '../../nodes/lib/types';

const T0 = Date.UTC(2026, 0, 1);
const rd = (sensorId: string, value: unknown, ts: number, quality: Reading['quality'] = 'good', extra: Partial<Reading> = {}): Reading =>
  ({ sensorId, value: value as number, ts, quality, ...extra });
const old = (sensorId: string, value: unknown, ts: number, quality: Reading['quality'] = 'good'): Reading => rd(sensorId, value, ts, quality, { backfill: true });
const named = (evs: AnomalyEvent[]) => evs.map((e) => `${e.sensorId}:${e.kind}:${e.state}`);

/** Runs `steps` through a detector with the live clock (wall = reading time), ticking as the node's timer does. */
function run(d: AnomalyDetector, steps: Array<Reading | Reading[] | { tick: number }>): AnomalyEvent[] {
  const evs: AnomalyEvent[] = [];
  for (const s of steps) {
    if ('tick' in s) d.tick(s.tick);
    else if (Array.isArray(s)) {
      d.arrival(Math.max(...s.map((r) => r.ts)));
      d.processBatch(s);
    } else {
      d.arrival(s.ts);
      d.process(s);
    }
    evs.push(...d.takeEvents());
  }
  return evs;
}

/** A's live readings every 100 ms over [from, to). */
function live(id: string, from: number, to: number, value = 5): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < to; t += 100) out.push(rd(id, value, t));
  return out;
}

const RULES: AnomalyRule[] = [{ match: '*', hi: 10, staleMs: 3000, zscore: 4, flatlineMs: 60000 }];

describe('anomaly: backfilled readings are history', function () {
  it('a stale episode that is over (live data resumed, then the backfill arrives) raises no live alarm and changes no state', function () {
    const d = new AnomalyDetector(RULES);
    const before = run(d, [...live('A', T0, T0 + 2000), { tick: T0 + 7000 }, ...live('A', T0 + 22000, T0 + 24000)]);
    assert.deepStrictEqual(named(before), ['A:stale:active', 'A:stale:cleared'], 'the live outage itself was seen');
    const state = JSON.stringify(d.exportState());
    // the hole, from the server's history, after live data resumed; one reading a spike, one bad
    const hole = live('A', T0 + 2000, T0 + 22000, 6).map((r) => ({ ...r, backfill: true }));
    hole[50].value = 50;
    hole[60].quality = 'bad';
    assert.deepStrictEqual(run(d, [hole.slice(0, 100), ...hole.slice(100)]), []);
    assert.deepStrictEqual(d.activeKinds('A'), []);
    assert.strictEqual(JSON.stringify(d.exportState()), state, 'no learned statistic, timer or alarm changed');
    assert.ok(hole.every((r) => !('alarms' in r)), 'not annotated');
  });

  it('a backfilled spike raises no live alarm, is passed on untouched, and leaves the learned statistics alone', function () {
    const withBackfill = new AnomalyDetector(RULES);
    const without = new AnomalyDetector(RULES);
    const values = (i: number) => 5 + Math.sin(i / 3) * 0.5;
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 600; i++) {
      const r = rd('A', values(i), T0 + i * 100);
      for (const d of [withBackfill, without]) d.process({ ...r });
      if (i % 50 === 49) {
        // a burst of history far outside the learned band, older than the live data
        const burst = Array.from({ length: 20 }, (_, k) => old('A', 40 + k, T0 + i * 100 - 4000 + k * 100));
        const copy = JSON.parse(JSON.stringify(burst));
        withBackfill.processBatch(burst, true);
        assert.deepStrictEqual(burst, copy, 'backfilled readings leave the detector exactly as they came');
      }
      evs.push(...withBackfill.takeEvents());
      without.takeEvents();
    }
    assert.deepStrictEqual(evs, []);
    assert.deepStrictEqual(withBackfill.exportState(), without.exportState());
    // the statistics still catch a live spike
    withBackfill.process(rd('A', 50, T0 + 60000));
    assert.deepStrictEqual(named(withBackfill.takeEvents()).sort(), ['A:hi:active', 'A:zscore:active']);
  });

  it('a backfilled reading does not keep a silent sensor alive: stale fires at its last live reading + staleMs', function () {
    const d = new AnomalyDetector(RULES);
    const steps: Reading[] = [];
    for (let t = T0; t < T0 + 8000; t += 100) {
      steps.push(rd('B', 5, t));
      if (t < T0 + 1000) steps.push(rd('A', 5, t));
      else steps.push(old('A', 5, t)); // history newer than A's last live value (a restart's backfill) still is not life
    }
    const evs = run(d, steps);
    assert.deepStrictEqual(named(evs), ['A:stale:active']);
    assert.strictEqual(evs[0].ts, T0 + 900 + 3000);
  });

  it('the bad BadNoCommunication reading sent live at the cut raises quality and stale; backfilled good values clear neither, the next live good value does', function () {
    const d = new AnomalyDetector(RULES);
    const cut = T0 + 2000;
    const evs = run(d, [...live('A', T0, cut), rd('A', null, cut, 'bad', { statusCode: 'BadNoCommunication' }), { tick: cut + 5000 }]);
    assert.deepStrictEqual(named(evs), ['A:quality:active', 'A:stale:active']);
    const hole = live('A', cut, cut + 20000).map((r) => ({ ...r, backfill: true }));
    assert.deepStrictEqual(run(d, [hole]), [], 'the backfill clears nothing');
    assert.deepStrictEqual([...d.activeKinds('A')].sort(), ['quality', 'stale']);
    const back = run(d, [rd('A', 5, cut + 20100)]);
    assert.deepStrictEqual(named(back).sort(), ['A:quality:cleared', 'A:stale:cleared']);
    assert.ok(back.every((e) => e.ts === cut + 20100 && e.historical === undefined));
  });

  it('a history detector (setting "evaluate") judges only backfilled readings, without stale, and marks its events historical', function () {
    const h = new AnomalyDetector(RULES, { history: true });
    const evs = run(h, [
      ...live('A', T0, T0 + 1000, 50), // live values above hi: not this detector's business
      ...live('A', T0 + 1000, T0 + 2000).map((r) => ({ ...r, backfill: true })),
      old('A', 50, T0 + 2000),
      old('A', 5, T0 + 2100),
      { tick: T0 + 60000 },
      old('A', 5, T0 + 30000), // a later outage's backfill: the gap between them is not silence
    ]);
    assert.deepStrictEqual(named(evs), ['A:hi:active', 'A:hi:cleared']);
    assert.ok(evs.every((e) => e.historical === true));
    assert.deepStrictEqual([evs[0].ts, evs[1].ts], [T0 + 2000, T0 + 2100]);
    assert.deepStrictEqual(h.stats(), { sensors: 1, active: 0, shelved: 0, per10min: 1 });
  });
});
