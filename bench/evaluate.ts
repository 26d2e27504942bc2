// Scores a rule set against a signal source with ground-truth faults (the simulated plant, or a
// labelled recording): detection of every fault in its window, and false alarms on clean data.
import type { Reading } from '../nodes/lib/types';
import { AnomalyDetector } from '../nodes/lib/anomaly/detector';
import type { AnomalyRule } from '../nodes/lib/anomaly/rules';

export interface GroundTruthFault {
  sensorId: string;
  kind: string;
  start: number;
  end: number;
}

export interface SignalSource {
  sensors: ReadonlyArray<{ sensorId: string; measurement?: string; unit?: string }>;
  rateMs: number;
  startTs: number;
  sample(i: number, ts: number): number | undefined;
  faultsUntil(ts: number): GroundTruthFault[];
}

export interface EvaluationResult {
  sensors: number;
  simulatedHours: number;
  readings: number;
  elapsedMs: number;
  activations: number;
  /** activations not explained by an injected fault on that sensor */
  falseAlarms: number;
  falseAlarmsPerSensorDay: number;
  faults: number;
  detected: number;
  missed: GroundTruthFault[];
  /** detection latency after the fault's start, per fault kind */
  latencyMs: Record<string, { n: number; mean: number; max: number }>;
}

/** Which alarm kinds count as detecting each fault kind, and how long after `end` they may come. */
export const EXPECTED: Record<string, { kinds: string[]; graceMs: number }> = {
  spike: { kinds: ['deviation', 'hihi', 'hi', 'lo', 'lolo', 'rate', 'zscore'], graceMs: 0 },
  drift: { kinds: ['deviation', 'hihi', 'hi', 'lo', 'lolo', 'rate', 'zscore'], graceMs: 0 },
  stuck: { kinds: ['flatline'], graceMs: 5000 },
  dropout: { kinds: ['stale'], graceMs: 5000 },
};
/** an alarm this soon after a fault's end is still that fault's (e.g. the recovery step) */
const AFTERMATH_MS = 10000;

export function evaluateRules(src: SignalSource, rules: AnomalyRule[], durationMs: number): EvaluationResult {
  const det = new AnomalyDetector(rules);
  const n = src.sensors.length;
  const readings: Reading[] = src.sensors.map((s) => ({ sensorId: s.sensorId, value: 0, ts: 0, quality: 'good', measurement: s.measurement, unit: s.unit }));
  const actives: Array<{ sensorId: string; kind: string; ts: number }> = [];
  const endTs = src.startTs + durationMs;
  let count = 0;
  const t0 = Date.now();
  for (let ts = src.startTs; ts < endTs; ts += src.rateMs) {
    for (let i = 0; i < n; i++) {
      const v = src.sample(i, ts);
      if (v === undefined) continue;
      const r = readings[i];
      r.value = v;
      r.ts = ts;
      det.process(r);
      count++;
    }
    const evs = det.takeEvents();
    for (let k = 0; k < evs.length; k++) if (evs[k].state === 'active') actives.push({ sensorId: evs[k].sensorId, kind: evs[k].kind, ts: evs[k].ts });
  }
  const elapsedMs = Date.now() - t0;
  const all = src.faultsUntil(endTs);
  // Only faults whose whole detection window lies inside the run are scored; all of them explain alarms.
  const faults = all.filter((f) => f.end + (EXPECTED[f.kind]?.graceMs ?? 0) <= endTs);
  const bySensor = new Map<string, GroundTruthFault[]>();
  for (const f of all) {
    const l = bySensor.get(f.sensorId) ?? [];
    l.push(f);
    bySensor.set(f.sensorId, l);
  }
  let falseAlarms = 0;
  for (const a of actives) {
    const fs = bySensor.get(a.sensorId);
    if (!fs || !fs.some((f) => a.ts >= f.start && a.ts <= f.end + AFTERMATH_MS)) falseAlarms++;
  }
  const missed: GroundTruthFault[] = [];
  const latencyMs: EvaluationResult['latencyMs'] = {};
  for (const f of faults) {
    const exp = EXPECTED[f.kind] ?? { kinds: [], graceMs: 0 };
    const hit = actives.find((a) => a.sensorId === f.sensorId && exp.kinds.includes(a.kind) && a.ts >= f.start && a.ts <= f.end + exp.graceMs);
    if (!hit) {
      missed.push(f);
      continue;
    }
    const l = (latencyMs[f.kind] ??= { n: 0, mean: 0, max: 0 });
    const lat = hit.ts - f.start;
    l.mean = (l.mean * l.n + lat) / (l.n + 1);
    l.n++;
    l.max = Math.max(l.max, lat);
  }
  const hours = durationMs / 3600000;
  return {
    sensors: n, simulatedHours: hours, readings: count, elapsedMs, activations: actives.length, falseAlarms,
    falseAlarmsPerSensorDay: n > 0 ? falseAlarms / n / (hours / 24) : 0,
    faults: faults.length, detected: faults.length - missed.length, missed, latencyMs,
  };
}

/** Rules that catch the simulated plant's injected faults (also the demo's rules). */
export const PLANT_RULES: AnomalyRule[] = [
  { match: 'TEMP-*', baseline: 45, deviation: 7.5, flatlineMs: 5000, staleMs: 3000 },
  { match: 'PRES-*', baseline: 3.2, deviation: 0.75, flatlineMs: 5000, staleMs: 3000 },
  { match: 'VIB-*', baseline: 2.5, deviation: 2.25, flatlineMs: 5000, staleMs: 3000 },
  { match: 'HUM-*', baseline: 40, deviation: 12, flatlineMs: 5000, staleMs: 3000 },
  { match: '*', flatlineMs: 5000, staleMs: 3000 },
];
