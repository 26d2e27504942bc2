import assert from 'assert';
import { AnomalyDetector, AnomalyEvent } from '../../nodes/lib/anomaly/detector';
import type { Reading } from '../../nodes/lib/types';

// Issue 14: each defect seen on a replayed plant record, reproduced on the pure core.
const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const rd = (sensorId: string, value: unknown, ts: number): Reading => ({ sensorId, value: value as number, ts, quality: 'good' });

/** Deterministic noise in [-1, 1) (no Math.random: a failing run must be repeatable). */
function noise(i: number, seed = 1): number {
  let h = Math.imul(i ^ (seed * 0x9e3779b1), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 15), 0xc2b2ae3d);
  return ((h ^ (h >>> 16)) >>> 0) / 2147483648 - 1;
}
const active = (evs: AnomalyEvent[], kind?: string) => evs.filter((e) => e.state === 'active' && (kind === undefined || e.kind === kind));
const cleared = (evs: AnomalyEvent[], kind?: string) => evs.filter((e) => e.state === 'cleared' && (kind === undefined || e.kind === kind));

describe('anomaly issue 14, defect 1: z-score lock-on and σ floor', function () {
  it('a slow excursion on 5-minute data raises z once, then the baseline relearns and the alarm clears', function () {
    const d = new AnomalyDetector([{ match: '*', zscore: 4 }]);
    const evs: AnomalyEvent[] = [];
    // one day of 20 ± 0.3, then a 2-hour ramp to 30 that stays there for 3 days (a new operating point)
    let i = 0;
    for (let t = T0; t < T0 + 4 * 24 * HOUR; t += 5 * MIN, i++) {
      const since = t - (T0 + 24 * HOUR);
      const level = since < 0 ? 20 : since < 2 * HOUR ? 20 + (10 * since) / (2 * HOUR) : 30;
      d.process(rd('TT-1', Math.round((level + 0.3 * noise(i)) * 100) / 100, t));
      evs.push(...d.takeEvents());
    }
    const z = active(evs, 'zscore');
    assert.ok(z.length >= 1, 'the excursion is seen');
    assert.ok(z.length <= 3, `${z.length} z episodes: a new level is learned, not re-alarmed all day`);
    assert.deepStrictEqual(d.activeKinds('TT-1'), [], 'the z alarm does not stay on for days');
    const lastClear = cleared(evs, 'zscore').pop();
    assert.ok(lastClear && lastClear.ts <= T0 + 24 * HOUR + 2 * HOUR + 2 * HOUR, `cleared within the freeze bound after the ramp (at ${lastClear && (lastClear.ts - T0) / HOUR} h)`);
  });

  it('the freeze is bounded by freezeMaxMs: learning resumes and the alarm is re-judged', function () {
    const d = new AnomalyDetector([{ match: '*', zscore: 4, freezeMaxMs: 10 * MIN }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 2 * 3600; i++) {
      const v = (i < 1800 ? 50 : 60) + 0.5 * noise(i, 3);
      d.process(rd('P-1', v, T0 + i * S));
      evs.push(...d.takeEvents());
    }
    const a = active(evs, 'zscore');
    const c = cleared(evs, 'zscore');
    assert.strictEqual(a.length, 1, 'one episode for one step');
    assert.strictEqual(c.length, 1);
    const frozen = c[0].ts - a[0].ts;
    assert.ok(frozen >= 10 * MIN && frozen <= 12 * MIN, `cleared ${frozen / MIN} min after raising (bound 10 min)`);
  });

  it('σ floor: a flat warm-up does not turn the first one-step wiggle into a many-σ alarm', function () {
    const d = new AnomalyDetector([{ match: '*', zscore: 4 }]);
    const evs: AnomalyEvent[] = [];
    // a 0.1-resolution sensor that reads exactly 20.0 for 10 minutes, then toggles by one step now and then
    for (let i = 0; i < 1800; i++) {
      const v = i < 600 ? 20 : i % 7 === 0 ? 20.1 : 20;
      d.process(rd('TT-2', v, T0 + i * S));
      evs.push(...d.takeEvents());
    }
    assert.deepStrictEqual(active(evs), [], 'one resolution step is not an anomaly');
  });

  it('σ floor: zscoreMinStd is a minimum σ, so a move smaller than zscore × minimum never alarms, a larger one does', function () {
    const d = new AnomalyDetector([{ match: '*', zscore: 4, zscoreMinStd: 0.5 }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 1200; i++) {
      const v = i < 600 ? 20 : i < 900 ? 21.5 : 24;
      d.process(rd('TT-3', v, T0 + i * S));
      evs.push(...d.takeEvents());
    }
    const z = active(evs, 'zscore');
    assert.strictEqual(z.length, 1, 'only the 4 unit (8 σ-floor) move alarms');
    assert.ok(z[0].ts >= T0 + 900 * S, `raised at ${(z[0].ts - T0) / S} s`);
  });
});

describe('anomaly issue 14, defect 2: stale floods', function () {
  it('staleMs 60000 (the old editor default) on 5-minute data: no stale while readings arrive on time', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 60000 }]);
    const evs: AnomalyEvent[] = [];
    for (let t = T0; t < T0 + 24 * HOUR; t += 5 * MIN) {
      d.arrival(t);
      d.process(rd('TT-5', 20, t));
      for (let w = t; w < t + 5 * MIN; w += 30 * S) d.tick(w);
      evs.push(...d.takeEvents());
    }
    assert.strictEqual(active(evs, 'stale').length, 0, `${active(evs, 'stale').length} stale episodes on punctual data`);
  });

  it('stalePeriods: learns each sensor period (1 s and 5 min) and goes stale at a multiple of it', function () {
    const d = new AnomalyDetector([{ match: '*', stalePeriods: 5 }]);
    const evs: AnomalyEvent[] = [];
    const end = T0 + 6 * HOUR;
    for (let t = T0; t < end; t += S) {
      d.arrival(t);
      const fastDown = t >= T0 + 2 * HOUR && t < T0 + 2 * HOUR + 30 * S;
      const slowDown = t >= T0 + 3 * HOUR && t < T0 + 4 * HOUR;
      if (!fastDown) d.process(rd('FAST', 1, t));
      if ((t - T0) % (5 * MIN) === 0 && !slowDown) d.process(rd('SLOW', 1, t));
      d.tick(t + 500);
      evs.push(...d.takeEvents());
    }
    const fast = active(evs, 'stale').filter((e) => e.sensorId === 'FAST');
    const slow = active(evs, 'stale').filter((e) => e.sensorId === 'SLOW');
    assert.strictEqual(fast.length, 1, 'one fast dropout, one stale episode');
    assert.ok(Math.abs(fast[0].limit as number - 5 * S) <= 100, `fast limit ${fast[0].limit}`);
    assert.strictEqual(slow.length, 1, `slow stale episodes: ${slow.map((e) => (e.ts - T0) / MIN).join(', ')} min`);
    assert.ok(Math.abs(slow[0].limit as number - 25 * MIN) <= S, `slow limit ${slow[0].limit}`);
    assert.ok(slow[0].ts >= T0 + 3 * HOUR + 20 * MIN && slow[0].ts <= T0 + 3 * HOUR + 30 * MIN, `slow stale at ${(slow[0].ts - T0) / MIN} min`);
  });

  it('a slow sensor whose clock lags the fast ones is judged on its own arrivals, not on their newest ts', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 10 * MIN }]);
    const evs: AnomalyEvent[] = [];
    for (let t = T0; t < T0 + 2 * HOUR; t += S) {
      d.arrival(t);
      d.process(rd('FAST', 1, t));
      // arrives every 5 minutes, stamped by a clock 7 minutes slow
      if ((t - T0) % (5 * MIN) === 0) d.process(rd('LAGGING', 1, t - 7 * MIN));
      d.tick(t + 500);
      evs.push(...d.takeEvents());
    }
    assert.strictEqual(evs.filter((e) => e.kind === 'stale').length, 0, `${evs.filter((e) => e.kind === 'stale').length} stale events`);
  });

  it('a restart after downtime does not make every sensor stale while they report again', function () {
    const ids = Array.from({ length: 20 }, (_, i) => `S-${i}`);
    const before = new AnomalyDetector([{ match: '*', staleMs: 60000 }]);
    let t = T0;
    for (; t < T0 + 10 * MIN; t += S) {
      before.arrival(t);
      for (let k = 0; k < ids.length; k++) if ((t / S) % 10 === k % 10) before.process(rd(ids[k], 1, t));
      before.tick(t);
    }
    before.takeEvents();
    const saved = JSON.parse(JSON.stringify(before.exportState()));
    const down = 60 * MIN;
    const after = new AnomalyDetector([{ match: '*', staleMs: 60000 }]);
    after.importState(saved, t + down);
    const evs: AnomalyEvent[] = [...after.takeEvents()];
    for (let w = t + down; w < t + down + 2 * MIN; w += S) {
      after.arrival(w);
      for (let k = 0; k < ids.length; k++) if ((w / S) % 10 === k % 10) after.process(rd(ids[k], 1, w));
      after.tick(w + 500);
      evs.push(...after.takeEvents());
    }
    assert.strictEqual(active(evs, 'stale').length, 0, `${active(evs, 'stale').length} stale alarms after the restart`);
  });
});

describe('anomaly issue 14, defect 3: rate of change over a window, with hysteresis', function () {
  it('rateWindowMs: noisy 1-second data does not trip the rate alarm; a real ramp does', function () {
    const d = new AnomalyDetector([{ match: '*', rate: 0.2, rateWindowMs: 60000 }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 3600; i++) {
      // ±1 unit of noise per reading (up to 2 units/s reading to reading), then a 0.5 unit/s ramp from 30 min on
      const v = 50 + noise(i, 7) + (i >= 1800 ? 0.5 * (i - 1800) : 0);
      d.process(rd('FT-1', v, T0 + i * S));
      evs.push(...d.takeEvents());
    }
    const r = active(evs, 'rate');
    assert.strictEqual(r.length, 1, `${r.length} rate episodes`);
    assert.ok(r[0].ts >= T0 + 1800 * S && r[0].ts <= T0 + 1860 * S, `ramp found ${(r[0].ts - T0) / S - 1800} s after it began`);
  });

  it('rateWindowMs on 5-minute data: a slow ramp to failure is found', function () {
    const d = new AnomalyDetector([{ match: '*', rate: 1 / 600, rateWindowMs: 30 * MIN }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const v = 70 + 0.2 * noise(i, 9) + (i >= 100 ? 0.8 * (i - 100) : 0); // 0.8 per 5 min = 1/375 per s
      d.process(rd('BRG-1', v, T0 + i * 5 * MIN));
      evs.push(...d.takeEvents());
    }
    const r = active(evs, 'rate');
    assert.strictEqual(r.length, 1);
    assert.ok(r[0].ts <= T0 + 110 * 5 * MIN, `found after ${(r[0].ts - T0) / (5 * MIN) - 100} readings`);
  });

  it('rateDeadband: a rate hovering around its limit gives one episode, not one per crossing', function () {
    const d = new AnomalyDetector([{ match: '*', rate: 1, rateWindowMs: 0, rateDeadband: 0.3 }]);
    const evs: AnomalyEvent[] = [];
    let v = 0;
    for (let i = 0; i < 600; i++) {
      v += i < 100 ? 0 : i % 2 === 0 ? 1.1 : 0.9; // 1.1 and 0.9 units/s alternating
      d.process(rd('LT-1', v, T0 + i * S));
      evs.push(...d.takeEvents());
    }
    assert.strictEqual(active(evs, 'rate').length, 1, `${active(evs, 'rate').length} rate activations`);
  });
});

describe('anomaly issue 14, defect 4: non-finite values, repeated timestamps', function () {
  it('a sensor that sends only NaN goes stale: non-finite values do not refresh liveness', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 5000 }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const t = T0 + i * S;
      d.arrival(t);
      d.process(rd('OK-1', 1, t));
      d.process(rd('NAN-1', i < 10 ? 1 : i % 2 ? NaN : Infinity, t));
      d.tick(t + 500);
      evs.push(...d.takeEvents());
    }
    const st = active(evs, 'stale');
    assert.deepStrictEqual(st.map((e) => e.sensorId), ['NAN-1']);
    assert.strictEqual(st[0].ts, T0 + 9 * S + 5000, 'stale counts from the last finite value');
  });

  it('a step that arrives with a repeated timestamp is not hidden from the rate check', function () {
    const d = new AnomalyDetector([{ match: '*', rate: 5 }]);
    const evs: AnomalyEvent[] = [];
    const push = (v: number, t: number) => { d.process(rd('PT-9', v, t)); evs.push(...d.takeEvents()); };
    for (let i = 0; i < 20; i++) push(10, T0 + i * S);
    push(100, T0 + 19 * S); // same ts as the previous reading, value jumped by 90
    for (let i = 20; i < 30; i++) push(100, T0 + i * S);
    assert.strictEqual(active(evs, 'rate').length, 1, 'the 90-unit step is a rate alarm');
  });
});

describe('anomaly issue 14: alarm grouping and drift', function () {
  it('grouping: a fault that trips three rules is one active and one cleared event, with the per-rule detail', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 60, hihi: 80, rate: 5 }], { group: true });
    const evs: AnomalyEvent[] = [];
    const vals = [...Array(20).fill(50), 70, 90, 90, 90, 70, ...Array(20).fill(50)];
    vals.forEach((v, i) => { d.process(rd('TT-7', v, T0 + i * S)); evs.push(...d.takeEvents()); });
    assert.deepStrictEqual(evs.map((e) => `${e.kind} ${e.state}`), ['hi active', 'hihi escalated', 'hi cleared'], 'one episode: hihi escalates it, one clear');
    const end = evs[2];
    assert.strictEqual(end.activeSince, T0 + 20 * S);
    assert.strictEqual(end.severity, 'high');
    assert.deepStrictEqual(end.episode?.kinds, ['hihi', 'hi', 'rate']);
    assert.ok((end.episode?.count as number) >= 3, `count ${end.episode?.count}`);
    assert.strictEqual(end.episode?.durationMs, end.ts - (T0 + 20 * S));
    assert.deepStrictEqual(end.detail?.map((x) => [x.kind, x.active, x.limit]), [['hihi', false, 80], ['hi', false, 60], ['rate', false, 5]]);
    for (const k of ['sensorId', 'kind', 'state', 'severity', 'value', 'ts', 'activeSince', 'message']) assert.ok(k in end, `DESIGN.md field ${k}`);
  });

  it('without grouping the same fault is one event per kind and state change (the option keeps the old stream)', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 60, hihi: 80, rate: 5 }]);
    const evs: AnomalyEvent[] = [];
    const vals = [...Array(20).fill(50), 70, 90, 90, 90, 70, ...Array(20).fill(50)];
    vals.forEach((v, i) => { d.process(rd('TT-7', v, T0 + i * S)); evs.push(...d.takeEvents()); });
    assert.ok(evs.length >= 6, `${evs.length} events`);
  });

  it('drift: a slow ramp that never trips the z-score is found by the CUSUM; the same noise without the ramp is not', function () {
    const run = (slope: number) => {
      const d = new AnomalyDetector([{ match: '*', zscore: 6, drift: 25 }]);
      const evs: AnomalyEvent[] = [];
      for (let i = 0; i < 6 * 3600; i++) {
        const t = i >= 3 * 3600 ? (i - 3 * 3600) * slope : 0; // from 3 h on, value units per reading
        d.process(rd('VT-1', Math.round((20 + 0.2 * noise(i, 4) + t) * 100) / 100, T0 + i * S));
        evs.push(...d.takeEvents());
      }
      return evs;
    };
    const clean = run(0);
    assert.deepStrictEqual(clean.map((e) => e.kind), []);
    const drifting = run(0.0005); // 1.8 units per hour: 9 noise amplitudes per hour, never a jump
    const dr = active(drifting, 'drift');
    assert.strictEqual(dr.length >= 1, true, 'drift found');
    const z = active(drifting, 'zscore');
    // (once drift is active, learning is frozen and the growing distance does become a z-score)
    assert.ok(z.length === 0 || z[0].ts > dr[0].ts, 'drift is seen before the z-score sees anything');
    assert.ok(dr[0].ts - (T0 + 3 * HOUR) <= HOUR, `found ${(dr[0].ts - T0 - 3 * HOUR) / MIN} min after it began`);
  });
});

describe('anomaly issue 14: state saved by the previous version', function () {
  it('a v1 state (before learned periods) restores: the active hi alarm carries on and clears once, without a second "active"', function () {
    // exported by the detector of commit 7b22522 after a hi alarm on P-1
    const v1 = JSON.parse('{"v":1,"clockTs":1767225604000,"ruleSigs":["{\\"match\\":\\"*\\",\\"hi\\":5,\\"zscore\\":6,\\"flatlineMs\\":5000,\\"staleMs\\":3000}"],' +
      '"minutes":[[29453760,-1,-1,-1,-1,-1,-1,-1,-1,-1],[1,0,0,0,0,0,0,0,0,0]],"sensors":[["P-1",0,1767225604000,9,1767225604000,1.0062897544983027,' +
      '0.0010089642938597683,40,1767225600000,1767225604000,9,1767225604000,4,[null,null,null,null,null,null,null,null,null,null,null,null,null,null],' +
      '[[2,1767225604000,0,0,0,[1767225604000,null],9]]]]}');
    const d = new AnomalyDetector([{ match: '*', hi: 5, zscore: 6, flatlineMs: 5000, staleMs: 3000 }]);
    d.importState(v1, T0 + 4000);
    assert.deepStrictEqual(d.takeEvents(), []);
    assert.deepStrictEqual(d.activeKinds('P-1'), ['hi']);
    const evs: AnomalyEvent[] = [];
    for (let i = 1; i <= 5; i++) { d.process(rd('P-1', 1, T0 + 4000 + i * 100)); evs.push(...d.takeEvents()); }
    assert.deepStrictEqual(evs.map((e) => `${e.kind} ${e.state} ${e.activeSince}`), [`hi cleared ${T0 + 4000}`]);
  });
});
