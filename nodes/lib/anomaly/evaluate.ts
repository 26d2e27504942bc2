// Per-reading evaluation of the value detectors (deviation, limits, rate, z-score, drift, flatline)
// and the on-delay / off-delay state machine in front of them. No node-red import.
import type { AnomalyDetector } from './detector';
import type { CompiledRule } from './rules';
import { K_DEV, K_HIHI, K_HI, K_LO, K_LOLO, K_RATE, K_Z, K_FLAT, K_DRIFT } from './rules';
import { SensorState, timerSlot, newTimers, flatLimit } from './sensor';
import { updateResolution, zOf, cusum, learn, rateOf } from './stats';
import { activate, clear } from './alarm';

/** Judges a usable numeric value of a sensor at t (its own reading time). */
export function evaluate(d: AnomalyDetector, s: SensorState, rule: CompiledRule, v: number, t: number): void {
  const mask = rule.mask;
  const db = rule.deadband;
  if ((mask & (1 << K_DEV)) !== 0) {
    const dv = v - rule.baseline;
    const a = dv < 0 ? -dv : dv;
    condition(d, s, K_DEV, a > rule.deviation, a <= rule.deviation - db, t, v, rule.deviation, dv);
  }
  if ((mask & (1 << K_HIHI)) !== 0) condition(d, s, K_HIHI, v > rule.hihi, v <= rule.hihi - db, t, v, rule.hihi, v - rule.hihi);
  if ((mask & (1 << K_HI)) !== 0) condition(d, s, K_HI, v > rule.hi, v <= rule.hi - db, t, v, rule.hi, v - rule.hi);
  if ((mask & (1 << K_LO)) !== 0) condition(d, s, K_LO, v < rule.lo, v >= rule.lo + db, t, v, rule.lo, v - rule.lo);
  if ((mask & (1 << K_LOLO)) !== 0) condition(d, s, K_LOLO, v < rule.lolo, v >= rule.lolo + db, t, v, rule.lolo, v - rule.lolo);
  if ((mask & (1 << K_RATE)) !== 0) {
    const rate = rateOf(s, v, t);
    if (rate === rate) {
      const a = rate < 0 ? -rate : rate;
      condition(d, s, K_RATE, a > rule.rate, a <= rule.rate - rule.rateDeadband, t, v, rule.rate, rate);
    }
  }
  if (rule.stats) statistics(d, s, rule, v, t);
  if ((mask & (1 << K_FLAT)) !== 0) {
    const dv = v - s.flatRef;
    if (!(dv <= rule.flatlineEpsilon && dv >= -rule.flatlineEpsilon)) {
      if ((s.active & (1 << K_FLAT)) !== 0) clear(d, s, K_FLAT, t, v, flatLimit(rule, s.period), t - s.flatSince);
      s.flatRef = v;
      s.flatSince = t;
    } else if ((s.active & (1 << K_FLAT)) === 0) {
      const lim = flatLimit(rule, s.period);
      if (t - s.flatSince >= lim) activate(d, s, K_FLAT, t, v, lim, t - s.flatSince);
    }
  }
  s.lastValue = v;
}

/** z-score and drift against the rolling baseline (judged before this value is learned). */
function statistics(d: AnomalyDetector, s: SensorState, rule: CompiledRule, v: number, t: number): void {
  updateResolution(s, v);
  if ((rule.mask & (1 << K_Z)) !== 0) {
    const z = zOf(s, v, t);
    if (z === z) {
      const a = z < 0 ? -z : z;
      condition(d, s, K_Z, a > rule.zscore, a <= rule.zscoreClear, t, v, rule.zscore, z);
    }
  }
  if ((rule.mask & (1 << K_DRIFT)) !== 0) {
    const c = cusum(s, v);
    if (c === c) condition(d, s, K_DRIFT, c > rule.drift, c <= rule.drift / 2, t, v, rule.drift, c);
  }
  learn(s, v, t);
}

/**
 * On-delay / off-delay state machine of one value alarm. The timers are kept apart from the calls to
 * activate and clear so that this stays small enough for V8 to inline at every call site above.
 */
function condition(d: AnomalyDetector, s: SensorState, k: number, trip: boolean, clearOk: boolean, t: number, v: number, limit: number, dev: number): void {
  // noDelays: no on- or off-delay in this rule, so no timers to keep
  if ((s.active & (1 << k)) === 0) {
    if (s.rule.noDelays ? trip : onDelay(s, k, trip, t)) activate(d, s, k, t, v, limit, dev);
  } else if (s.rule.noDelays ? clearOk : offDelay(s, k, clearOk, t)) {
    clear(d, s, k, t, v, limit, dev);
  }
}

/** The on-delay of an inactive alarm: true once it has tripped for onDelayMs (the timer is then reset). */
function onDelay(s: SensorState, k: number, trip: boolean, t: number): boolean {
  let tm = s.timers;
  const on = timerSlot(k);
  if (!trip) {
    if (tm !== null && tm[on] === tm[on]) tm[on] = NaN;
    return false;
  }
  if (tm === null) tm = s.timers = newTimers();
  if (tm[on] !== tm[on]) tm[on] = t;
  if (t - tm[on] >= s.rule.onDelayMs) {
    tm[on] = NaN;
    return true;
  }
  return false;
}

/** The off-delay of an active alarm: true once it may clear for offDelayMs (the timer is then reset). */
function offDelay(s: SensorState, k: number, clearOk: boolean, t: number): boolean {
  let tm = s.timers;
  const off = timerSlot(k) + 1;
  if (tm === null) tm = s.timers = newTimers();
  if (!clearOk) {
    if (tm[off] === tm[off]) tm[off] = NaN;
    return false;
  }
  if (tm[off] !== tm[off]) tm[off] = t;
  if (t - tm[off] >= s.rule.offDelayMs) {
    tm[off] = NaN;
    return true;
  }
  return false;
}
