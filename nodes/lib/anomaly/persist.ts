// Saving and restoring the anomaly detector's state (redeploys and restarts). JSON-safe arrays.
import type { AnomalyRule } from './rules';
import { KINDS } from './rules';
import type { AnomalyDetector } from './detector';
import {
  SensorState, F_SIZE, F_STATS_SINCE, PERIOD_SAMPLES,
} from './sensor';
import { activeList, j, jv } from './text';

export type ExportedAlarm = [number, number | null, number, number, number, Array<number | null>, unknown];
/**
 * v2: [sensorId, rule index, [lastTs, lastValue, arrival, period, flatRef, flatSince, refTs, refV, mean, variance, n, statsTs, res, warm, frozen], numbers (sensor.ts F_*),
 * active mask, timers, alarms, period samples or null]
 */
export type ExportedSensor = [string, number, Array<number | null>, Array<number | null>, number, Array<number | null>, ExportedAlarm[], number[] | null];
/** v1 (before the learned period and windowed statistics) */
type ExportedSensorV1 = [string, number, number | null, number | null, number | null, number, number, number, number | null, number | null,
  number | null, number | null, number, Array<number | null>, ExportedAlarm[]];

export interface ExportedState {
  v: 1 | 2;
  clockTs: number | null;
  rules?: AnomalyRule[];
  ruleSigs?: string[];
  minutes?: [number[], number[]];
  sensors: Array<ExportedSensor | ExportedSensorV1>;
}

/** An infinite default survives JSON as null: put it back. */
function back(v: number | null | undefined, i: number): number {
  if (v !== null && v !== undefined) return v;
  return i < 0 ? Infinity : NaN;
}
const num = (v: number | null | undefined, d = NaN): number => (v === null || v === undefined ? d : v);

export function exportDetector(d: AnomalyDetector): ExportedState {
  const sensors: ExportedSensor[] = [];
  for (const s of d.list) {
    const alarms: ExportedAlarm[] = [];
    for (let a = s.alarms; a !== null; a = a.next) {
      alarms.push([a.kind, j(a.activeSince), a.acked ? 1 : 0, a.shelvedUntil, a.chattering ? 1 : 0, [j(a.act0), j(a.act1)], jv(a.value)]);
    }
    sensors.push([s.sensorId, s.rule.index, [j(s.lastTs), j(s.lastValue), j(s.arrival), j(s.period), j(s.flatRef), j(s.flatSince), j(s.refTs), j(s.refV), j(s.mean), s.variance, s.n, j(s.statsTs), j(s.res), s.warm, j(s.frozen)], Array.from(s.f, j), s.active, s.timers ? Array.from(s.timers, j) : [], alarms,
      s.periods ? Array.from(s.periods.subarray(0, s.periodCount)) : null]);
  }
  return {
    v: 2,
    clockTs: j(d.clockTs),
    rules: d.rulesOverride ?? undefined,
    ruleSigs: d.rules.map((r) => JSON.stringify(r.source)),
    minutes: [Array.from(d.minuteKey), Array.from(d.minuteCount)],
    sensors,
  };
}

function fromV1(s: SensorState, e: ExportedSensorV1): void {
  const f = s.f;
  s.lastTs = num(e[2], -Infinity);
  s.lastValue = num(e[3]);
  s.arrival = s.lastTs === -Infinity ? NaN : s.lastTs;
  s.refTs = num(e[4]);
  s.refV = s.lastValue;
  s.mean = e[5];
  s.variance = e[6];
  s.n = e[7];
  f[F_STATS_SINCE] = back(e[8], F_STATS_SINCE);
  s.statsTs = num(e[9]);
  s.flatRef = num(e[10]);
  s.flatSince = num(e[11]);
}

export function importDetector(d: AnomalyDetector, state: ExportedState, wallNow: number): void {
  if (!state || (state.v !== 1 && state.v !== 2) || !Array.isArray(state.sensors)) throw new Error('not an anomaly detector state (v1 or v2)');
  if (state.rules) d.setRules(state.rules, wallNow, true);
  const sigs = d.rules.map((r) => JSON.stringify(r.source));
  d.clockTs = state.clockTs === null ? -Infinity : state.clockTs;
  d.base = -Infinity;
  d.arrival(wallNow); // the latest-seen time carries on from the saved clock
  // The first reading after the restore restarts every stale count: downtime is not a sensor fault.
  d.rebase = true;
  if (Array.isArray(state.minutes)) {
    state.minutes[0].forEach((v, i) => { if (i < d.minuteKey.length) d.minuteKey[i] = v; });
    state.minutes[1].forEach((v, i) => { if (i < d.minuteCount.length) d.minuteCount[i] = v; });
  }
  const timerSlots = (KINDS.length) * 2;
  for (const e of state.sensors) {
    const id = e[0];
    if (d.sensors.has(id)) continue;
    const s = d.addSensor(id);
    if (s === null) continue;
    const same = state.ruleSigs?.[e[1]] === sigs[s.rule.index];
    let active: number;
    let timers: Array<number | null>;
    let alarms: ExportedAlarm[];
    if (state.v === 1) {
      const v1 = e as ExportedSensorV1;
      fromV1(s, v1);
      active = v1[12];
      timers = [];
      alarms = v1[14];
    } else {
      const v2 = e as ExportedSensor;
      const h = v2[2];
      s.lastTs = num(h[0], -Infinity);
      s.lastValue = num(h[1]);
      s.arrival = num(h[2]);
      s.setPeriod(num(h[3]));
      s.flatRef = num(h[4]);
      s.flatSince = num(h[5]);
      s.refTs = num(h[6]);
      s.refV = num(h[7]);
      s.mean = num(h[8]);
      s.variance = num(h[9], 0);
      s.n = num(h[10], 0);
      s.statsTs = num(h[11]);
      s.res = num(h[12], Infinity);
      s.warm = num(h[13], 0);
      s.frozen = num(h[14]);
      for (let i = 0; i < F_SIZE && i < v2[3].length; i++) s.f[i] = back(v2[3][i], i);
      active = v2[4];
      timers = v2[5];
      alarms = v2[6];
      const p = v2[7];
      if (p === null) s.periods = null;
      else if (Array.isArray(p)) {
        s.periodCount = Math.min(p.length, PERIOD_SAMPLES);
        for (let i = 0; i < s.periodCount; i++) (s.periods as Float64Array)[i] = p[i];
      }
    }
    if (same && timers.length === timerSlots) s.timers = Float64Array.from(timers, (v) => v ?? NaN);
    for (const [k, activeSince, acked, shelvedUntil, chattering, acts, value] of alarms) {
      if (k < 0 || k >= KINDS.length) continue;
      const a = d.record(s, k);
      a.activeSince = activeSince ?? NaN;
      a.acked = acked === 1;
      a.chattering = chattering === 1;
      a.act0 = acts[0] ?? -Infinity;
      a.act1 = acts[1] ?? -Infinity;
      a.value = value;
      if (shelvedUntil > 0) {
        a.shelvedUntil = shelvedUntil;
        d.shelvedCount++;
      }
      if ((active & (1 << k)) === 0) continue;
      s.active |= 1 << k;
      d.activeCount++;
    }
    s.list = activeList(s.active);
    for (let k = 0; k < KINDS.length; k++) {
      if ((s.active & (1 << k)) !== 0 && (s.rule.mask & (1 << k)) === 0) d.clear(s, k, d.now(), d.record(s, k).value, NaN, NaN, 'the rules no longer raise it');
    }
  }
}
