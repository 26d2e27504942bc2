import assert from 'assert';
import { compileGlob } from '../../nodes/lib/anomaly/glob';
import { compileRules, AnomalyRule } from '../../nodes/lib/anomaly/rules';
import { AnomalyDetector, AnomalyEvent } from '../../nodes/lib/anomaly/detector';
import type { Reading } from '../../nodes/lib/types';

const T0 = Date.UTC(2026, 0, 1);
const rd = (sensorId: string, value: unknown, ts: number, quality: Reading['quality'] = 'good'): Reading =>
  ({ sensorId, value: value as number, ts, quality });

/** Feeds values every stepMs from t0; returns all events. */
function feed(d: AnomalyDetector, id: string, values: number[], t0 = T0, stepMs = 100): AnomalyEvent[] {
  const out: AnomalyEvent[] = [];
  values.forEach((v, i) => {
    d.process(rd(id, v, t0 + i * stepMs));
    out.push(...d.takeEvents());
  });
  return out;
}
const states = (evs: AnomalyEvent[]) => evs.map((e) => `${e.kind}:${e.state}`);

describe('anomaly: globs and rules', function () {
  it('compiles globs to exact, prefix, suffix and pattern matchers', function () {
    assert.ok(compileGlob('TEMP-01')('TEMP-01'));
    assert.ok(!compileGlob('TEMP-01')('TEMP-011'));
    assert.ok(compileGlob('TEMP-*')('TEMP-99'));
    assert.ok(!compileGlob('TEMP-*')('PRES-01'));
    assert.ok(compileGlob('*-01')('VIB-01'));
    assert.ok(compileGlob('L?-*.PT')('L1-abc.PT'));
    assert.ok(!compileGlob('L?-*.PT')('L1-abcXPT'), 'a dot is literal');
    assert.ok(compileGlob('*')('anything'));
  });

  it('rejects bad rules with a message naming the property', function () {
    assert.throws(() => compileRules({}), /rules must be an array/);
    assert.throws(() => compileRules([{}]), /rules\[0\]\.match/);
    assert.throws(() => compileRules([{ match: '*', hi: 'x' }]), /rules\[0\]\.hi must be a finite number/);
    assert.throws(() => compileRules([{ match: '*', baseline: 3 }]), /baseline and deviation go together/);
    assert.throws(() => compileRules([{ match: '*', hi: 5, hihi: 4 }]), /hihi must be >= hi/);
    assert.throws(() => compileRules([{ match: '*', deviaton: 4 }]), /deviaton is not a rule property/);
    assert.throws(() => compileRules([{ match: 'A' }, { match: '*', staleMs: 0 }]), /rules\[1\]\.staleMs must be > 0/);
    assert.strictEqual(compileRules([{ match: '*', hi: '5' }])[0].hi, 5, 'numeric strings from the editor are accepted');
  });

  it('first matching rule wins and the rule is cached per sensor', function () {
    const d = new AnomalyDetector([{ match: 'TEMP-01', hi: 100 }, { match: 'TEMP-*', hi: 50 }]);
    d.process(rd('TEMP-01', 60, T0));
    d.process(rd('TEMP-02', 60, T0));
    assert.deepStrictEqual(d.activeKinds('TEMP-01'), []);
    assert.deepStrictEqual(d.activeKinds('TEMP-02'), ['hi']);
    assert.deepStrictEqual(d.process(rd('OTHER', 1e9, T0)), [], 'no rule: passed through');
  });
});

describe('anomaly: detectors', function () {
  it('baseline ± deviation: one active and one cleared event for a long excursion', function () {
    const d = new AnomalyDetector([{ match: '*', baseline: 45, deviation: 7.5 }]);
    const vals = [...Array(50).fill(45), ...Array(100).fill(60), ...Array(50).fill(44)];
    const evs = feed(d, 'TEMP-01', vals);
    assert.deepStrictEqual(states(evs), ['deviation:active', 'deviation:cleared']);
    assert.strictEqual(evs[0].ts, T0 + 5000);
    assert.strictEqual(evs[0].limit, 7.5);
    assert.strictEqual(evs[0].deviation, 15);
    assert.strictEqual(evs[0].severity, 'medium');
    assert.strictEqual(evs[1].activeSince, T0 + 5000);
    assert.strictEqual(evs[0].sensorId, 'TEMP-01');
    assert.match(evs[0].message, /TEMP-01 deviation/);
  });

  it('HI with deadband does not chatter on noise around the limit', function () {
    const noisy = Array.from({ length: 200 }, (_, i) => 80 + (i % 2 === 0 ? 0.4 : -0.4));
    const plain = new AnomalyDetector([{ match: '*', hi: 80 }]);
    assert.ok(feed(plain, 'T', noisy).length > 50, 'without a deadband every crossing is an event');
    const banded = new AnomalyDetector([{ match: '*', hi: 80, deadband: 1 }]);
    assert.deepStrictEqual(states(feed(banded, 'T', noisy)), ['hi:active']);
    const evs = feed(banded, 'T', [79.5, 78.9], T0 + 100000);
    assert.deepStrictEqual(states(evs), ['hi:cleared'], 'clears only below hi − deadband');
    assert.strictEqual(evs[0].value, 78.9);
  });

  it('on-delay and off-delay run on reading timestamps', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 10, onDelayMs: 1000, offDelayMs: 2000 }]);
    // 0.9 s above the limit: too short
    let evs = feed(d, 'S', [...Array(9).fill(11), ...Array(5).fill(0)]);
    assert.deepStrictEqual(evs, []);
    evs = feed(d, 'S', [...Array(15).fill(11)], T0 + 10000);
    assert.deepStrictEqual(states(evs), ['hi:active']);
    assert.strictEqual(evs[0].ts, T0 + 11000, 'active once the condition held 1 s');
    evs = feed(d, 'S', [0, 0, 0, 11, ...Array(25).fill(0)], T0 + 20000);
    assert.deepStrictEqual(states(evs), ['hi:cleared']);
    assert.strictEqual(evs[0].ts, T0 + 20400 + 2000, 'the blip restarted the off-delay');
    // The same readings at 1 s spacing give the same result in reading time, whatever the replay speed.
    const slow = new AnomalyDetector([{ match: '*', hi: 10, onDelayMs: 1000 }]);
    assert.deepStrictEqual(states(feed(slow, 'S', [11, 11], T0, 1000)), ['hi:active']);
  });

  it('HIHI and HI are separate alarms with their own severities; LO and LOLO mirror them', function () {
    const d = new AnomalyDetector([{ match: '*', hihi: 100, hi: 90, lo: 10, lolo: 0 }]);
    const evs = feed(d, 'S', [50, 95, 105, 95, 50, 5, -5, 50]);
    assert.deepStrictEqual(states(evs), ['hi:active', 'hihi:active', 'hihi:cleared', 'hi:cleared', 'lo:active', 'lolo:active', 'lo:cleared', 'lolo:cleared']);
    assert.strictEqual(evs[1].severity, 'high');
    assert.strictEqual(evs[0].severity, 'medium');
  });

  it('annotates the sensor state: active kinds while active, empty afterwards', function () {
    const d = new AnomalyDetector([{ match: '*', hihi: 100, hi: 90 }]);
    assert.deepStrictEqual(d.process(rd('S', 105, T0)), ['hihi', 'hi']);
    assert.deepStrictEqual(d.process(rd('S', 95, T0 + 1)), ['hi']);
    assert.deepStrictEqual(d.process(rd('S', 5, T0 + 2)), []);
    const batch = [rd('S', 95, T0 + 3), rd('S', 5, T0 + 4)] as Array<Reading & { alarms?: string[] }>;
    assert.strictEqual(d.processBatch(batch), 2);
    assert.deepStrictEqual(batch[0].alarms, ['hi']);
    assert.ok(!('alarms' in batch[1]), 'no alarms property when there are none');
  });

  it('rate of change in units per second', function () {
    const d = new AnomalyDetector([{ match: '*', rate: 5, rateWindowMs: 0 }]);
    const evs = feed(d, 'S', [0, 0.2, 0.4, 1.5, 1.6, 1.7]); // 11 units/s between samples 2 and 3
    assert.deepStrictEqual(states(evs), ['rate:active', 'rate:cleared']);
    assert.ok(Math.abs((evs[0].deviation as number) - 11) < 1e-9);
  });

  it('rolling z-score: warm-up, detection, and learning frozen while the alarm is active', function () {
    const d = new AnomalyDetector([{ match: '*', zscore: 5, zscoreWindowMs: 10000 }]);
    const noise = (i: number) => Math.sin(i * 12.9898) * 0.5;
    // A jump during warm-up must not alarm.
    let evs = feed(d, 'S', Array.from({ length: 50 }, (_, i) => 20 + noise(i) + (i === 40 ? 10 : 0)));
    assert.deepStrictEqual(evs, [], 'no z-score before warm-up');
    evs = feed(d, 'S', Array.from({ length: 300 }, (_, i) => 20 + noise(i + 50)), T0 + 5000);
    assert.deepStrictEqual(evs, [], 'no false alarm on noise after warm-up');
    // A level shift: alarm, and it stays active because the stats do not learn the fault.
    evs = feed(d, 'S', Array.from({ length: 600 }, (_, i) => 26 + noise(i)), T0 + 35000);
    assert.deepStrictEqual(states(evs), ['zscore:active'], 'still active after 60 s = 6 windows');
    assert.ok((evs[0].deviation as number) > 5);
    evs = feed(d, 'S', Array.from({ length: 20 }, (_, i) => 20 + noise(i)), T0 + 95000);
    assert.deepStrictEqual(states(evs), ['zscore:cleared']);
  });

  it('flatline: a value frozen longer than flatlineMs', function () {
    const d = new AnomalyDetector([{ match: '*', flatlineMs: 5000, flatlineEpsilon: 0.01 }]);
    const vals = [...Array.from({ length: 20 }, (_, i) => i), ...Array(80).fill(7.003), 7.004, 9];
    const evs = feed(d, 'S', vals);
    assert.deepStrictEqual(states(evs), ['flatline:active', 'flatline:cleared']);
    assert.strictEqual(evs[0].ts, T0 + 20 * 100 + 5000);
    assert.strictEqual(evs[1].ts, T0 + 101 * 100, 'a change within epsilon does not clear it');
  });

  it('stale: found by the data-time sweep when other sensors keep reporting, event at lastTs + staleMs', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 3000 }]);
    const evs: AnomalyEvent[] = [];
    for (let i = 0; i < 100; i++) {
      const ts = T0 + i * 100;
      d.process(rd('A', 1, ts));
      if (i < 20 || i > 70) d.process(rd('B', 1, ts));
      evs.push(...d.takeEvents());
    }
    assert.deepStrictEqual(evs.map((e) => `${e.sensorId}:${e.kind}:${e.state}`), ['B:stale:active', 'B:stale:cleared']);
    assert.strictEqual(evs[0].ts, T0 + 1900 + 3000);
    assert.strictEqual(evs[1].ts, T0 + 7100);
  });

  it('stale: the timer finds it when nothing arrives at all, using the latest-seen time', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 3000 }]);
    const wall0 = 1_000_000;
    d.process(rd('A', 1, T0 - 100)); // two readings: the sensor's period is known (until then stale waits up to an hour)
    d.process(rd('A', 1, T0));
    d.arrival(wall0);
    d.tick(wall0 + 2999);
    assert.deepStrictEqual(d.takeEvents(), []);
    d.tick(wall0 + 3500);
    const evs = d.takeEvents();
    assert.deepStrictEqual(states(evs), ['stale:active']);
    assert.strictEqual(evs[0].ts, T0 + 3000, 'event time is on the readings\' clock, not the wall clock');
  });

  it('live use: a reading far ahead of the wall clock does not make the other sensors stale', function () {
    const d = new AnomalyDetector([{ match: '*', staleMs: 3000 }]);
    const wall = T0;
    d.arrival(wall);
    d.process(rd('A', 1, T0));
    d.process(rd('B', 1, T0));
    d.process(rd('BROKEN-CLOCK', 1, T0 + 365 * 86400000));
    d.process(rd('A', 1, T0 + 100));
    d.tick(wall + 100);
    assert.deepStrictEqual(d.takeEvents(), []);
    // Without a wall clock (a replay) the newest timestamp is the clock.
    const replay = new AnomalyDetector([{ match: '*', staleMs: 3000 }]);
    replay.process(rd('A', 1, T0 - 100));
    replay.process(rd('A', 1, T0));
    replay.process(rd('B', 1, T0 + 5000));
    assert.deepStrictEqual(states(replay.takeEvents()), ['stale:active']);
  });

  it('tracks at most maxSensors sensors; the rest pass through unevaluated', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 1 }], { maxSensors: 10 });
    for (let i = 0; i < 20; i++) d.process(rd(`S${i}`, 5, T0));
    assert.strictEqual(d.stats().sensors, 10);
    assert.strictEqual(d.untracked, 10);
    assert.strictEqual(d.takeEvents().length, 10);
  });

  it('bad quality raises a quality alarm and is kept out of the value detectors', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 10 }]);
    d.process(rd('S', 5, T0));
    d.process(rd('S', 99, T0 + 100, 'bad'));
    d.process(rd('S', 5, T0 + 200, 'good'));
    assert.deepStrictEqual(states(d.takeEvents()), ['quality:active', 'quality:cleared']);
    const off = new AnomalyDetector([{ match: '*', quality: false }]);
    off.process(rd('S', 5, T0, 'bad'));
    assert.deepStrictEqual(off.takeEvents(), []);
  });

  it('non-numeric values and invalid batch entries are skipped without breaking the rest', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 10 }]);
    const batch: any[] = [rd('S', 'ON', T0), null, { sensorId: 'S' }, rd('S', 20, T0 + 1), rd('S', NaN, T0 + 2)];
    assert.strictEqual(d.processBatch(batch), 3);
    assert.deepStrictEqual(states(d.takeEvents()), ['hi:active']);
  });
});

describe('anomaly: alarm lifecycle', function () {
  const rules: AnomalyRule[] = [{ match: '*', hi: 10 }];
  it('acknowledge marks active alarms once', function () {
    const d = new AnomalyDetector(rules);
    d.process(rd('S', 20, T0));
    d.takeEvents();
    assert.strictEqual(d.ack('S'), 1);
    assert.strictEqual(d.ack('S'), 0, 'already acknowledged');
    const evs = d.takeEvents();
    assert.deepStrictEqual(states(evs), ['hi:acknowledged']);
    assert.strictEqual(evs[0].acknowledged, true);
    d.process(rd('S', 0, T0 + 100));
    assert.strictEqual(d.takeEvents()[0].acknowledged, true, 'cleared event says it was acknowledged');
    assert.throws(() => d.ack('S', 'nonsense'), /unknown alarm kind/);
  });

  it('timed shelving suppresses events until it expires on the readings\' clock', function () {
    const d = new AnomalyDetector(rules, { sweepMs: 100 });
    d.process(rd('S', 20, T0));
    d.takeEvents();
    assert.strictEqual(d.shelve('S', undefined, 10000), 1);
    assert.deepStrictEqual(states(d.takeEvents()), ['hi:shelved']);
    const evs = feed(d, 'S', [0, 20, 0, 20, 0, ...Array(100).fill(20)], T0 + 100, 100);
    assert.deepStrictEqual(states(evs), ['hi:unshelved'], 'no active/cleared while shelved');
    assert.strictEqual(evs[0].ts, T0 + 10000);
    assert.strictEqual(d.stats().shelved, 0);
    d.shelve('S*', 'hi', 60000);
    d.unshelve('S');
    assert.deepStrictEqual(states(d.takeEvents()), ['hi:shelved', 'hi:unshelved']);
  });

  it('chattering: the third activation within 60 s marks it and can shelve it', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 10, chatterShelveMs: 600000 }]);
    const evs = feed(d, 'S', [20, 0, 20, 0, 20, 0, 20, 0], T0, 10000);
    assert.deepStrictEqual(states(evs), ['hi:active', 'hi:cleared', 'hi:active', 'hi:cleared', 'hi:active', 'hi:chattering', 'hi:shelved']);
    assert.strictEqual(evs[5].chattering, true);
    assert.strictEqual(d.alarmsPer10Min(), 3, 'shelved activations are not counted');
    const edge = new AnomalyDetector([{ match: '*', hi: 10 }]);
    assert.ok(states(feed(edge, 'S', [20, 0, 20, 0, 20, 0], T0, 15000)).includes('hi:chattering'), '3 activations within 60 s exactly');
    const slow = new AnomalyDetector([{ match: '*', hi: 10 }]);
    assert.ok(!states(feed(slow, 'S', [20, 0, 20, 0, 20, 0], T0, 15001)).includes('hi:chattering'), 'not within 60.004 s');
  });

  it('counts alarms per 10 minutes over a rolling window', function () {
    const d = new AnomalyDetector([{ match: '*', hi: 10 }]);
    for (let i = 0; i < 20; i++) feed(d, `S${i}`, [20, 0], T0 + i * 60000, 1000);
    assert.strictEqual(d.alarmsPer10Min(T0 + 19 * 60000), 10);
    assert.strictEqual(d.stats().per10min, 10);
  });

  it('reset clears a sensor\'s alarms with events and forgets its state', function () {
    const d = new AnomalyDetector(rules);
    d.process(rd('A', 20, T0));
    d.process(rd('B', 20, T0));
    d.takeEvents();
    assert.strictEqual(d.reset('A'), 1);
    assert.deepStrictEqual(d.takeEvents().map((e) => `${e.sensorId}:${e.state}`), ['A:cleared']);
    assert.deepStrictEqual(d.stats().active, 1);
    d.process(rd('A', 20, T0 + 1));
    assert.deepStrictEqual(states(d.takeEvents()), ['hi:active'], 'detection starts afresh');
    d.reset();
    assert.strictEqual(d.stats().sensors, 0);
    assert.strictEqual(d.stats().active, 0);
  });

  it('replacing rules validates first, then clears alarms and re-matches sensors', function () {
    const d = new AnomalyDetector(rules);
    d.process(rd('A', 20, T0));
    d.takeEvents();
    assert.throws(() => d.setRules([{ match: '' }] as any), /match/);
    assert.strictEqual(d.stats().active, 1, 'a bad rule set changes nothing');
    d.setRules([{ match: '*', hi: 30 }]);
    assert.deepStrictEqual(states(d.takeEvents()), ['hi:cleared']);
    d.process(rd('A', 20, T0 + 1));
    assert.deepStrictEqual(d.takeEvents(), []);
    assert.strictEqual(d.getRules()[0].hi, 30);
  });
});

describe('anomaly: state export and import', function () {
  it('an active alarm survives a round trip without a second "active" event, then clears', function () {
    const rules: AnomalyRule[] = [{ match: '*', hi: 10, flatlineMs: 5000, staleMs: 3000, zscore: 6 }];
    const a = new AnomalyDetector(rules);
    feed(a, 'S', [1, 2, 20, 20]);
    a.ack('S', 'hi');
    a.takeEvents();
    const snap = JSON.parse(JSON.stringify(a.exportState()));
    const b = new AnomalyDetector(rules);
    b.importState(snap);
    assert.deepStrictEqual(b.activeKinds('S'), ['hi']);
    assert.deepStrictEqual(b.takeEvents(), []);
    const evs = feed(b, 'S', [20, 5], T0 + 400);
    assert.deepStrictEqual(states(evs), ['hi:cleared']);
    assert.strictEqual(evs[0].activeSince, T0 + 200);
    assert.strictEqual(evs[0].acknowledged, true);
  });

  it('alarms of kinds the new rules no longer raise are cleared on import', function () {
    const a = new AnomalyDetector([{ match: '*', hi: 10 }]);
    a.process(rd('S', 20, T0));
    const b = new AnomalyDetector([{ match: '*', lo: 0 }]);
    b.importState(a.exportState());
    assert.deepStrictEqual(states(b.takeEvents()), ['hi:cleared']);
    assert.strictEqual(b.stats().active, 0);
  });

  it('rules replaced by message are part of the state', function () {
    const a = new AnomalyDetector([{ match: '*', hi: 10 }]);
    a.setRules([{ match: '*', hi: 50 }]);
    const b = new AnomalyDetector([{ match: '*', hi: 10 }]);
    b.importState(a.exportState());
    assert.strictEqual(b.getRules()[0].hi, 50);
    assert.throws(() => b.importState({ v: 2 } as any), /not an anomaly detector state/);
  });
});
