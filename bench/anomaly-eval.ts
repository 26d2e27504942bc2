// The anomaly evaluation: labelled faults of scripts/plant/anomaly-sim.ts replayed through the
// detector and, in the same pass, through three simple baselines. Per detector: faults found,
// false alarm episodes, detection delay. Benchmark code: not shipped in dist/nodes.
import { AnomalySim, SimFault, SimFaultKind, SIM_FAULT_KINDS } from '../scripts/plant/anomaly-sim';
import { AnomalyDetector } from '../nodes/lib/anomaly/detector';
import type { AnomalyRule } from '../nodes/lib/anomaly/rules';

/** A detector under evaluation: sees every reading in time order, reports alarm episode onsets. */
export interface Judge {
  name: string;
  feed(sensor: number, v: number, ts: number, wall: number): void;
  /** called once per time step after the readings of that step */
  tick(ts: number): void;
  /** alarm episodes as the operator sees them: these are counted as false alarms when no fault explains them */
  onsets: Array<{ sensor: number; ts: number }>;
  /** every alarm activation, also one that joins an episode already open: these find faults */
  hits: Array<{ sensor: number; ts: number }>;
}

export interface KindScore { faults: number; found: number; /** median delay in the sensor's periods */ medianDelay: number }
export interface Score {
  name: string;
  faults: number;
  found: number;
  byKind: Record<SimFaultKind, KindScore>;
  falseEpisodes: number;
  /** median detection delay, in readings of the faulty sensor, for 1-s and 5-min sensors */
  medianDelayFast: number;
  medianDelaySlow: number;
}

/** After a fault ends, its recovery may still alarm for this long (at least 24 of the sensor's periods). */
export function aftermathMs(f: SimFault): number {
  return Math.max(3600000, 24 * f.periodMs);
}
/** A detection may come this long after the fault's end (a stuck or stale sensor is seen at its end at the latest). */
function graceMs(f: SimFault): number {
  return 5 * f.periodMs;
}

/** The genix detector with a rule set, grouping on (one episode per sensor), stale on its clock. */
export function detectorJudge(name: string, rules: AnomalyRule[], sim: AnomalySim): Judge {
  const det = new AnomalyDetector(rules, { group: true });
  const index = new Map(sim.sensors.map((s, i) => [s.sensorId, i]));
  const reading = { sensorId: '', value: 0, ts: 0, quality: 'good' as const };
  const lists = sim.sensors.map(() => det.activeKinds(''));
  const j: Judge = {
    name,
    onsets: [],
    hits: [],
    feed(sensor, v, ts) {
      reading.sensorId = sim.sensors[sensor].sensorId;
      reading.value = v;
      reading.ts = ts;
      const list = det.process(reading);
      // a kind that was not active before (the lists are shared frozen arrays: compare by reference first)
      if (list !== lists[sensor] && list.some((k) => !lists[sensor].includes(k))) j.hits.push({ sensor, ts });
      lists[sensor] = list;
    },
    tick() {
      for (const e of det.takeEvents()) {
        if (e.state !== 'active') continue;
        const i = index.get(e.sensorId) as number;
        j.onsets.push({ sensor: i, ts: e.ts });
        j.hits.push({ sensor: i, ts: e.ts }); // stale is raised by the sweep, between readings
        lists[i] = det.activeKinds(e.sensorId);
      }
    },
  };
  return j;
}

/** Per-sensor boolean alarm → episode onsets on false→true. */
function onOff(name: string, n: number, alarmed: (sensor: number, v: number, ts: number) => boolean): Judge {
  const state = new Uint8Array(n);
  const j: Judge = {
    name,
    onsets: [],
    hits: [],
    feed(sensor, v, ts) {
      const a = alarmed(sensor, v, ts) ? 1 : 0;
      if (a === 1 && state[sensor] === 0) {
        j.onsets.push({ sensor, ts });
        j.hits.push({ sensor, ts });
      }
      state[sensor] = a;
    },
    tick() { /* value-only: no clock */ },
  };
  return j;
}

/** Baseline 1: static band, mean ± kσ learned over the clean time (which it is told is clean). */
export function staticBand(sim: AnomalySim, k = 4): Judge {
  const n = sim.sensors.length;
  const sum = new Float64Array(n), sum2 = new Float64Array(n), cnt = new Float64Array(n);
  const cleanEnd = sim.startTs + sim.cleanMs;
  return onOff(`static band (mean ± ${k}σ of the clean day)`, n, (i, v, ts) => {
    if (ts < cleanEnd) {
      sum[i] += v; sum2[i] += v * v; cnt[i]++;
      return false;
    }
    const m = sum[i] / cnt[i];
    const sd = Math.sqrt(Math.max(0, sum2[i] / cnt[i] - m * m));
    return Math.abs(v - m) > k * sd;
  });
}

/** Baseline 2: EWMA z-score (always learning), |z| > k after 30 readings. */
export function ewmaZ(sim: AnomalySim, k = 4, readings = 30): Judge {
  const n = sim.sensors.length;
  const mean = new Float64Array(n), vr = new Float64Array(n), cnt = new Float64Array(n);
  const a = 1 / readings;
  return onOff(`EWMA z-score (${readings} readings, |z| > ${k})`, n, (i, v) => {
    if (cnt[i] === 0) { mean[i] = v; cnt[i] = 1; return false; }
    const d = v - mean[i];
    const sd = Math.sqrt(vr[i]);
    const alarm = cnt[i] >= readings && sd > 0 && Math.abs(d) / sd > k;
    mean[i] += a * d;
    vr[i] = (1 - a) * (vr[i] + a * d * d);
    cnt[i]++;
    return alarm;
  });
}

/** Baseline 3: rate of change reading to reading above k × σ of the clean day's steps. */
export function rateThreshold(sim: AnomalySim, k = 6): Judge {
  const n = sim.sensors.length;
  const last = new Float64Array(n).fill(NaN), sum2 = new Float64Array(n), cnt = new Float64Array(n);
  const cleanEnd = sim.startTs + sim.cleanMs;
  return onOff(`rate of change (|Δ| > ${k}σ of clean steps)`, n, (i, v, ts) => {
    const d = v - last[i];
    last[i] = v;
    if (d !== d) return false;
    if (ts < cleanEnd) { sum2[i] += d * d; cnt[i]++; return false; }
    return Math.abs(d) > k * Math.sqrt(sum2[i] / cnt[i]);
  });
}

/** Replays the simulated plant from its start for durationMs through every judge; scores them. */
export function evaluateJudges(sim: AnomalySim, judges: Judge[], durationMs: number): { scores: Score[]; readings: number; faults: SimFault[] } {
  const from = sim.startTs;
  const to = from + durationMs;
  const index = new Map(sim.sensors.map((s, i) => [s.sensorId, i]));
  const readings = sim.replay(from, to, (ts, batch) => {
    for (const r of batch) {
      const i = index.get(r.sensorId) as number;
      for (const j of judges) j.feed(i, r.value, ts, ts);
    }
    for (const j of judges) j.tick(ts);
  });
  // Only faults whose detection window ends inside the run are scored; every fault explains alarms.
  const all = sim.faultsUntil(to);
  const scored = all.filter((f) => f.end + graceMs(f) <= to);
  const bySensor = new Map<number, SimFault[]>();
  for (const f of all) {
    const i = index.get(f.sensorId) as number;
    const l = bySensor.get(i) ?? [];
    l.push(f);
    bySensor.set(i, l);
  }
  const scores = judges.map((j) => {
    const byKind = Object.fromEntries(SIM_FAULT_KINDS.map((k) => [k, { faults: 0, found: 0, medianDelay: NaN }])) as Record<SimFaultKind, KindScore>;
    const delays = Object.fromEntries(SIM_FAULT_KINDS.map((k) => [k, [] as number[]])) as Record<SimFaultKind, number[]>;
    const fast: number[] = [];
    const slow: number[] = [];
    let found = 0;
    for (const f of scored) {
      const i = index.get(f.sensorId) as number;
      byKind[f.kind].faults++;
      const hit = j.hits.find((o) => o.sensor === i && o.ts >= f.start && o.ts <= f.end + graceMs(f));
      if (!hit) continue;
      found++;
      byKind[f.kind].found++;
      const d = (hit.ts - f.start) / f.periodMs;
      (f.periodMs < 60000 ? fast : slow).push(d);
      delays[f.kind].push(d);
    }
    for (const k of SIM_FAULT_KINDS) byKind[k].medianDelay = median(delays[k]);
    let falseEpisodes = 0;
    for (const o of j.onsets) {
      const fs = bySensor.get(o.sensor);
      if (!fs || !fs.some((f) => o.ts >= f.start && o.ts <= f.end + aftermathMs(f))) falseEpisodes++;
    }
    return { name: j.name, faults: scored.length, found, byKind, falseEpisodes, medianDelayFast: median(fast), medianDelaySlow: median(slow) };
  });
  return { scores, readings, faults: scored };
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}
