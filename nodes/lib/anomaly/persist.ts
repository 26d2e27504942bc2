// Saving and restoring the anomaly detector's state (redeploys and restarts). JSON-safe arrays.
import type { AnomalyRule } from './rules';
import { KINDS } from './rules';
import type { AnomalyDetector } from './detector';
import { SensorState, PERIOD_SAMPLES, TIMER_SLOTS, record } from './sensor';
import { S_MEAN, S_VAR, S_N, S_STATS_TS, S_STATS_SINCE, S_SIZE, R_SIZE, newStats, newRateWindow } from './stats';
import { clear } from './alarm';
import { activeList, j, jv } from './text';

export type ExportedAlarm = [number, number | null, number, number, number, Array<number | null>, unknown];
/**
 * v2: [sensorId, rule index, [lastTs, lastValue, arrival, period, flatRef, flatSince, refTs, refV], [statistics, rate window, episode] (sensor.ts S_, R_, EP_),
 * active mask, timers, alarms, period samples or null]
 */
export type ExportedSensor = [string, number, Array<number | null>, Array<Array<number | null> | null>, number, Array<number | null>, ExportedAlarm[], number[] | null];
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

/** Numbers from JSON over a fresh block: null (NaN, ±Infinity) takes the fresh block's value. */
function restore(saved: Array<number | null>, fresh: number[]): number[] {
  for (let i = 0; i < fresh.length; i++) {
    const v = saved[i];
    if (typeof v === 'number') fresh[i] = v;
    else if (Number.isFinite(fresh[i])) fresh[i] = NaN;
  }
  return fresh;
}
const num = (v: number | null | undefined, d = NaN): number => (v === null || v === undefined ? d : v);

export function exportDetector(d: AnomalyDetector): ExportedState {
  const sensors: ExportedSensor[] = [];
  for (const s of d.list) {
    const alarms: ExportedAlarm[] = [];
    for (let a = s.alarms; a !== null; a = a.next) {
      alarms.push([a.kind, j(a.activeSince), a.acked ? 1 : 0, a.shelvedUntil, a.chattering ? 1 : 0, [j(a.act0), j(a.act1)], jv(a.value)]);
    }
    sensors.push([s.sensorId, s.rule.index, [j(s.lastTs), j(s.lastValue), j(s.arrival), j(s.period), j(s.flatRef), j(s.flatSince), j(s.refTs), j(s.refV)],
      [s.st ? s.st.map(j) : null, s.rw ? s.rw.map(j) : null, s.ep ? s.ep.map(j) : null], s.active, s.timers ? Array.from(s.timers, j) : [], alarms,
      s.periods ? s.periods.slice() : null]);
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
  s.lastTs = num(e[2], -Infinity);
  s.lastValue = num(e[3]);
  s.arrival = s.lastTs === -Infinity ? NaN : s.lastTs;
  s.refTs = num(e[4]);
  s.refV = s.lastValue;
  if (s.st !== null) {
    s.st[S_MEAN] = e[5];
    s.st[S_VAR] = e[6];
    s.st[S_N] = e[7];
    s.st[S_STATS_SINCE] = num(e[8]);
    s.st[S_STATS_TS] = num(e[9]);
  }
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
      // a block is restored only when its sizes match (the rules still need it and its layout is this one)
      const [st, rw, ep] = v2[3];
      if (s.st !== null && Array.isArray(st) && st.length === s.st.length) s.st = restore(st, newStats(s.st.length === S_SIZE));
      if (s.rw !== null && Array.isArray(rw) && rw.length === R_SIZE) s.rw = restore(rw, newRateWindow());
      if (Array.isArray(ep) && ep.length === 5) s.ep = restore(ep, [NaN, 0, 0, 0, 0]);
      active = v2[4];
      timers = v2[5];
      alarms = v2[6];
      const p = v2[7];
      if (p === null) s.periods = null;
      else if (Array.isArray(p)) {
        s.periods = p.slice(0, PERIOD_SAMPLES - 1).filter((x) => typeof x === 'number' && x > 0);
      }
    }
    if (same && timers.length === TIMER_SLOTS) s.timers = timers.map((v) => (typeof v === 'number' ? v : NaN));
    for (const [k, activeSince, acked, shelvedUntil, chattering, acts, value] of alarms) {
      if (k < 0 || k >= KINDS.length) continue;
      const a = record(s, k);
      a.acked = acked === 1;
      a.chattering = chattering === 1;
      a.act0 = acts[0] ?? -Infinity;
      // active since the last activation: the saved activeSince is that time
      if (typeof activeSince === 'number') {
        a.on = true;
        a.act0 = activeSince;
      }
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
      if ((s.active & (1 << k)) !== 0 && (s.rule.mask & (1 << k)) === 0) clear(d, s, k, d.now(), record(s, k).value, NaN, NaN, 'the rules no longer raise it');
    }
  }
}
