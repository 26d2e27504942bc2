import assert from 'assert';
import { AnomalySim } from '../../scripts/plant/anomaly-sim';
import { evaluateJudges, detectorJudge, staticBand, ewmaZ, rateThreshold } from '../../bench/anomaly-eval';
import { AnomalyDetector } from '../../nodes/lib/anomaly/detector';
import { DEFAULT_RULES } from '../../nodes/lib/anomaly/rules';

// The labelled simulator (1 s and 5 min sensors) and the default rule of a new node, on the pure core.
const DAY = 86400000;

describe('anomaly simulator and the default rules', function () {
  this.timeout(120000);

  it('the simulator: sensors at 1 s and 5 min, every fault kind labelled, dropouts really missing', function () {
    const sim = new AnomalySim({ seed: 3, fast: 2, slow: 4 });
    assert.deepStrictEqual(sim.sensors.map((s) => s.periodMs), [1000, 1000, 300000, 300000, 300000, 300000]);
    const faults = sim.faultsUntil(sim.startTs + 3 * DAY);
    assert.deepStrictEqual([...new Set(faults.map((f) => f.kind))].sort(), ['drift', 'dropout', 'ramp', 'step', 'stuck']);
    assert.ok(faults.every((f) => f.start >= sim.startTs + DAY), 'the first day is clean');
    const drop = faults.find((f) => f.kind === 'dropout' && f.periodMs === 1000)!;
    const i = sim.sensors.findIndex((s) => s.sensorId === drop.sensorId);
    assert.strictEqual(sim.value(i, drop.start + 1000), undefined);
    const stuck = faults.find((f) => f.kind === 'stuck' && f.periodMs === 1000)!;
    const k = sim.sensors.findIndex((s) => s.sensorId === stuck.sensorId);
    assert.strictEqual(sim.value(k, stuck.start + 5000), sim.value(k, stuck.start + 60000), 'a stuck sensor repeats one value');
  });

  it('a clean day of 1 s and 5 min sensors through DEFAULT_RULES: no alarm at all', function () {
    const sim = new AnomalySim({ seed: 4, fast: 3, slow: 6, faults: false });
    const d = new AnomalyDetector(DEFAULT_RULES, { group: true });
    const evs: string[] = [];
    const n = sim.replay(sim.startTs, sim.startTs + DAY, (_ts, batch) => {
      for (const r of batch) d.process(r);
      for (const e of d.takeEvents()) evs.push(`${e.sensorId} ${e.kind} ${e.state} ${new Date(e.ts).toISOString()}`);
    });
    assert.strictEqual(n, 3 * 86400 + 6 * 288);
    assert.deepStrictEqual(evs, []);
    assert.strictEqual(d.periodOf('FAST-01'), 1000);
    assert.strictEqual(d.periodOf('SLOW-01'), 300000);
  });

  it('with faults: the default rules find at least as many as the best baseline, with fewer false episodes, and the dropouts no baseline sees', function () {
    const sim = new AnomalySim({ seed: 5, fast: 2, slow: 6 });
    const r = evaluateJudges(sim, [detectorJudge('default', DEFAULT_RULES, sim), staticBand(sim), ewmaZ(sim), rateThreshold(sim)], 3 * DAY);
    const [mine, ...baselines] = r.scores;
    const best = baselines.reduce((a, b) => (b.found > a.found ? b : a));
    const line = (s: typeof mine) => `${s.name}: ${s.found}/${s.faults}, ${s.falseEpisodes} false`;
    process.stdout.write(`      ${r.scores.map(line).join('\n      ')}\n`);
    assert.ok(mine.faults >= 50, `${mine.faults} faults`);
    assert.ok(mine.found >= best.found, line(best));
    assert.ok(mine.falseEpisodes < Math.max(1, best.falseEpisodes), line(mine));
    assert.strictEqual(mine.byKind.dropout.found, mine.byKind.dropout.faults, 'every dropout is a stale alarm');
    assert.ok(baselines.every((b) => b.byKind.dropout.found === 0));
    assert.strictEqual(mine.byKind.stuck.found, mine.byKind.stuck.faults, 'every stuck sensor is found');
  });
});
