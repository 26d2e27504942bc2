// Per-sensor state of the anomaly detector: the sensor's alarms, its learned period, the limits that
// follow it (stale, flatline) and the on-delay / off-delay timers. Its statistics are in stats.ts.
// No node-red import.
import type { CompiledRule } from './rules';
import { K_Z, K_DRIFT, K_FLAT, K_STALE } from './rules';
import { ruleLimit } from './text';
import { doubles, newStats, newRateWindow } from './stats';

// The hot numbers of a sensor (every reading, every sweep) are properties of SensorState; the others
// live in small arrays of doubles (plain arrays: unboxed doubles on the heap), each allocated only
// for a sensor that needs it: `st` (z-score and drift), `rw` (windowed rate), `ep` (an alarm episode).
// The indices are local constants (an exported const is a module property load at every use).
const EP_SINCE = 0; // alarm episode (grouping): since, activations, kinds seen, first kind, announced severity
const EP_COUNT = 1;
const EP_MASK = 2;
const EP_KIND = 3;
const EP_SEV = 4;

export {
  EP_SINCE, EP_COUNT, EP_MASK, EP_KIND, EP_SEV,
  PERIOD_SAMPLES, STALE_MIN_PERIODS, FLAT_MIN_PERIODS, STALE_UNKNOWN_MS,
};

export function newEpisode(): number[] {
  const a = doubles(5, 0);
  a[EP_SINCE] = NaN;
  return a;
}

/** intervals kept while learning the period (their median is the period) */
const PERIOD_SAMPLES = 9;
/** default limits, in sensor periods */
const STALE_MIN_PERIODS = 2;
const FLAT_MIN_PERIODS = 3;
/** stale limit while no period is known yet and no staleMs is set */
const STALE_UNKNOWN_MS = 3600000;

/** One alarm (sensor × kind): created the first time it changes state. */
export class AlarmRecord {
  /** active since act0 (no separate number: one less boxed double per alarm) */
  on = false;
  acked = false;
  shelvedUntil = 0;
  chattering = false;
  /** the two previous activation times, newest first (chattering: 3 within the window) */
  act0 = -Infinity;
  act1 = -Infinity;
  value: unknown = undefined;
  /** a sensor's records form a short linked list: most sensors have none, a few have one or two */
  next: AlarmRecord | null = null;
  constructor(readonly kind: number) {}

  get activeSince(): number {
    return this.on ? this.act0 : NaN;
  }
}

export class SensorState {
  index = 0;
  active = 0;
  list: readonly string[];
  /** own reading time and value of the last usable reading */
  lastTs = -Infinity;
  lastValue = NaN;
  /** detector clock when the last usable reading arrived (stale is judged on it) */
  arrival = NaN;
  /** learned median inter-arrival (ms), NaN until known */
  period = NaN;
  flatRef = NaN;
  flatSince = NaN;
  /** reading-to-reading rate: reference time and value (move only when time moves) */
  refTs = NaN;
  refV = NaN;
  /** z-score and drift (rule.stats), windowed rate (rule.rateWindowMs > 0), alarm episode (on its first alarm) */
  st: number[] | null;
  rw: number[] | null;
  ep: number[] | null = null;
  /** intervals seen while the period is learned; dropped once it is */
  periods: number[] | null = [];
  alarms: AlarmRecord | null = null;
  /** on-delay / off-delay start per value alarm kind (NaN = not pending); created on the first trip */
  timers: number[] | null = null;
  constructor(readonly sensorId: string, public rule: CompiledRule, empty: readonly string[]) {
    this.list = empty;
    this.st = rule.stats ? newStats(rule.drift === rule.drift) : null;
    this.rw = rule.rateWindowMs > 0 ? newRateWindow() : null;
  }

  setPeriod(p: number): void {
    this.period = p;
  }
}

/** The record of the sensor's alarm of kind k, created on first use. */
export function record(s: SensorState, k: number): AlarmRecord {
  for (let a = s.alarms; a !== null; a = a.next) if (a.kind === k) return a;
  const a = new AlarmRecord(k);
  a.next = s.alarms;
  s.alarms = a;
  return a;
}

/** The limit an alarm of kind k of this sensor is judged on (stale and flatline follow the learned period). */
export function limitOf(s: SensorState, k: number): number {
  if (k === K_STALE) return staleLimit(s.rule, s.period);
  if (k === K_FLAT) return flatLimit(s.rule, s.period);
  return ruleLimit(s.rule, k);
}

/** on-delay / off-delay timers: two slots per value alarm kind (drift uses flatline's, which has none) */
export const TIMER_SLOTS = (K_Z + 2) * 2;
export function timerSlot(k: number): number {
  return (k === K_DRIFT ? K_FLAT : k) * 2;
}
export function newTimers(): number[] {
  const t: number[] = [];
  for (let i = 0; i < TIMER_SLOTS; i++) t.push(NaN);
  return t;
}

/** Learns the sensor's period: the median of its first PERIOD_SAMPLES inter-arrival times. */
export function learnPeriod(s: SensorState, dt: number): void {
  const buf = s.periods;
  if (buf === null || !(dt > 0)) return;
  buf.push(dt);
  const sorted = buf.slice().sort((a, b) => a - b);
  s.setPeriod(sorted[(buf.length - 1) >> 1]);
  if (buf.length === PERIOD_SAMPLES) s.periods = null;
}

/** Stale limit: staleMs (never below 2 periods) or stalePeriods × period; an hour while the period is unknown. */
export function staleLimit(r: CompiledRule, period: number): number {
  if (period !== period) return r.staleMs > STALE_UNKNOWN_MS ? r.staleMs : STALE_UNKNOWN_MS;
  if (r.staleMs === r.staleMs) return STALE_MIN_PERIODS * period > r.staleMs ? STALE_MIN_PERIODS * period : r.staleMs;
  return r.stalePeriods * period;
}

export function flatLimit(r: CompiledRule, period: number): number {
  if (r.flatlineMs === r.flatlineMs) return period === period && FLAT_MIN_PERIODS * period > r.flatlineMs ? FLAT_MIN_PERIODS * period : r.flatlineMs;
  return period === period ? r.flatlinePeriods * period : NaN;
}
