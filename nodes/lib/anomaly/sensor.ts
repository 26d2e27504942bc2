// Per-sensor state of the anomaly detector and the statistics on it: learned period, resolution,
// rolling mean/σ with a bounded freeze, drift CUSUM and the windowed rate. No node-red import.
import type { CompiledRule } from './rules';
import { K_Z, K_DRIFT, K_FLAT, VALUE_MASK } from './rules';

/** learning pauses while one of these is active: a value alarm, or a stuck value (it would collapse σ) */
const FREEZE_MASK = VALUE_MASK | (1 << K_FLAT);

// The hot numbers of a sensor (every reading, every sweep) are properties of SensorState; the rest
// live in one Float64Array per sensor. The F_ indices are local constants (an exported const would
// be a property load on the module object at every use) and exported once at the end of the file.
const F_STATS_SINCE = 0;
const F_CUP = 1; // drift CUSUM, upward and downward
const F_CDN = 2;
const F_RW = 3; // windowed rate: exponentially weighted sums around (newest t, newest v)
const F_RT = 4;
const F_RTT = 5;
const F_RV = 6;
const F_RTV = 7;
const F_RATE_TS = 8;
const F_EP_SINCE = 9; // alarm episode (grouping): since, activations, kinds seen, first kind, announced severity
const F_EP_COUNT = 10;
const F_EP_MASK = 11;
const F_EP_KIND = 12;
const F_EP_SEV = 13;
const F_LMEAN = 14; // long-term baseline for drift (window DRIFT_WINDOW_PERIODS)
const F_LVAR = 15;
const F_BETA = 16;
const F_RDT = 17; // the same for the windowed rate
const F_LAMBDA = 18;
const F_RREF = 19; // windowed rate: the value origin
const F_BETAV = 20;
const F_SIZE = 21;

export {
  F_STATS_SINCE, F_CUP, F_CDN, F_RW, F_RT, F_RTT, F_RV, F_RTV, F_RATE_TS,
  F_EP_SINCE, F_EP_COUNT, F_EP_MASK, F_EP_KIND, F_EP_SEV, F_LMEAN, F_LVAR, F_SIZE,
  PERIOD_SAMPLES, MIN_STATS_N, Z_WINDOW_PERIODS, STALE_MIN_PERIODS, FLAT_MIN_PERIODS, STALE_UNKNOWN_MS, DRIFT_WINDOW_PERIODS, MIN_DRIFT_N,
};

const INIT = new Float64Array(F_SIZE).fill(NaN);
INIT[F_CUP] = 0;
INIT[F_CDN] = 0;
INIT[F_RW] = 0;
INIT[F_RT] = 0;
INIT[F_RTT] = 0;
INIT[F_RV] = 0;
INIT[F_RTV] = 0;
INIT[F_EP_COUNT] = 0;
INIT[F_EP_MASK] = 0;

/** intervals kept while learning the period (their median is the period) */
const PERIOD_SAMPLES = 9;
/** readings before z-score and drift are judged */
const MIN_STATS_N = 30;
/** default windows and limits, in sensor periods */
const Z_WINDOW_PERIODS = 60;
const STALE_MIN_PERIODS = 2;
const FLAT_MIN_PERIODS = 3;
/** stale limit while no period is known yet and no staleMs is set */
const STALE_UNKNOWN_MS = 3600000;
/** long-term baseline of the drift detector, in sensor periods, and readings before it is judged */
const DRIFT_WINDOW_PERIODS = 1000;
const MIN_DRIFT_N = 100;
/** the long-term spread's window, in long-term windows */
const DRIFT_VAR_WINDOWS = 10;
/**
 * drift CUSUM allowance k, in long-term σ: a sine-like natural cycle normalized by its own σ peaks at
 * √2 ≈ 1.41, so cycles never feed the sum; a sustained departure beyond 1.5 σ does.
 */
const DRIFT_K = 1.5;
const MAX_ALPHA = 0.1;
const DRIFT_CLIP = 4;

/** One alarm (sensor × kind): created the first time it changes state. */
export class AlarmRecord {
  activeSince = NaN;
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
  /** rolling statistics (hot: every reading of a sensor with zscore or drift) */
  mean = NaN;
  variance = 0;
  n = 0;
  statsTs = NaN;
  /** resolution: the smallest decimal step seen (Infinity until known) */
  res = Infinity;
  /** 1 once the warm-up is over */
  warm = 0;
  /** learning frozen since (NaN = learning) */
  frozen = NaN;
  /** the last interval and the smoothing factor computed for it (regular sampling: exp() once) */
  cdt = NaN;
  alpha = NaN;
  /** reading-to-reading rate: reference time and value (move only when time moves) */
  refTs = NaN;
  refV = NaN;
  /** stale and flatline limits for the current period (kept with it: the sweep reads them for every sensor) */
  staleLim: number;
  flatLim: number;
  readonly f = Float64Array.from(INIT);
  /** intervals seen while the period is learned; dropped once it is */
  periods: Float64Array | null = new Float64Array(PERIOD_SAMPLES);
  periodCount = 0;
  alarms: AlarmRecord | null = null;
  /** on-delay / off-delay start per value alarm kind (NaN = not pending); created on the first trip */
  timers: Float64Array | null = null;
  constructor(readonly sensorId: string, public rule: CompiledRule, empty: readonly string[]) {
    this.list = empty;
    this.staleLim = staleLimit(rule, NaN);
    this.flatLim = flatLimit(rule, NaN);
  }

  setPeriod(p: number): void {
    this.period = p;
    this.staleLim = staleLimit(this.rule, p);
    this.flatLim = flatLimit(this.rule, p);
  }
}

/** Learns the sensor's period: the median of its first PERIOD_SAMPLES inter-arrival times. */
export function learnPeriod(s: SensorState, dt: number): void {
  const buf = s.periods;
  if (buf === null || !(dt > 0)) return;
  buf[s.periodCount++] = dt;
  const sorted = buf.slice(0, s.periodCount).sort();
  s.setPeriod(sorted[(s.periodCount - 1) >> 1]);
  if (s.periodCount === PERIOD_SAMPLES) s.periods = null;
}

/** The decimal step of a value (0.001 for 45.123), at most 1e-6 fine; 1 for integers. */
export function decimalStep(v: number): number {
  let step = 1;
  let x = v < 0 ? -v : v;
  for (let d = 0; d < 6; d++) {
    if (Math.abs(x - Math.round(x)) <= 1e-9 * (x > 1 ? x : 1)) return step;
    x *= 10;
    step /= 10;
  }
  return step;
}

/** Looks for the resolution in the first readings, then on every 64th. */
export function updateResolution(s: SensorState, v: number): void {
  if (s.n < 32 || (s.n & 63) === 0) {
    const step = decimalStep(v);
    if (step < s.res) s.res = step;
  }
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

/** The σ used for z: the learned deviation, never below zscoreMinStd or the sensor's resolution. */
export function sigma(s: SensorState): number {
  const std = Math.sqrt(s.variance);
  const floor = s.rule.zscoreMinStd > s.res || s.res === Infinity ? s.rule.zscoreMinStd : s.res;
  return std > floor ? std : floor;
}

/** z of v against the rolling baseline, or NaN while warming up. */
/** Time constant of the rolling statistics: zscoreWindowMs, else 60 learned periods. */
export function statsWindow(s: SensorState, dt: number): number {
  const r = s.rule;
  const p = s.period;
  return r.zscoreWindowMs === r.zscoreWindowMs ? r.zscoreWindowMs : Z_WINDOW_PERIODS * (p === p ? p : dt);
}

export function zOf(s: SensorState, v: number, t: number): number {
  const f = s.f;
  if (s.warm !== 1) {
    if (s.n < MIN_STATS_N) return NaN;
    const warm = s.rule.zscoreWarmupMs > 0 ? s.rule.zscoreWarmupMs : statsWindow(s, 0);
    if (!(t - f[F_STATS_SINCE] >= warm)) return NaN;
    s.warm = 1;
  }
  const sd = sigma(s);
  return sd > 0 ? (v - s.mean) / sd : v === s.mean ? 0 : NaN;
}

/** Drift CUSUM update with v against the long-term baseline; returns the larger side, NaN while warming up. */
export function cusum(s: SensorState, v: number): number {
  const f = s.f;
  if (s.n < MIN_DRIFT_N) return NaN;
  const sd = Math.sqrt(f[F_LVAR]);
  const floor = sigma(s);
  const z = (v - f[F_LMEAN]) / (sd > floor ? sd : floor);
  if (z !== z) return NaN;
  const c = z > DRIFT_CLIP ? DRIFT_CLIP : z < -DRIFT_CLIP ? -DRIFT_CLIP : z;
  const cap = 2 * s.rule.drift;
  let up = f[F_CUP] + c - DRIFT_K;
  let dn = f[F_CDN] - c - DRIFT_K;
  up = up < 0 ? 0 : up > cap ? cap : up;
  dn = dn < 0 ? 0 : dn > cap ? cap : dn;
  f[F_CUP] = up;
  f[F_CDN] = dn;
  return up > dn ? up : dn;
}

/**
 * Rolling mean and variance (exponentially weighted, a plain average until the window fills).
 * Learning pauses while a value alarm is active, for at most freezeMaxMs; then the baseline is
 * re-seeded at the current value (returns true: the statistics' alarms are re-judged from there).
 */
export function learn(s: SensorState, v: number, t: number): boolean {
  const f = s.f;
  const r = s.rule;
  if (s.n === 0) {
    s.mean = v;
    s.variance = 0;
    f[F_LMEAN] = v;
    f[F_LVAR] = 0;
    s.n = 1;
    f[F_STATS_SINCE] = t;
    s.statsTs = t;
    return false;
  }
  const dt = t - s.statsTs;
  if ((s.active & FREEZE_MASK) !== 0) {
    s.statsTs = t; // time spent frozen is not learning time
    if (s.frozen !== s.frozen) s.frozen = t;
    if (t - s.frozen < r.freezeMaxMs) return false;
    // Frozen long enough: this is the new normal. Relearn from here; σ keeps its scale.
    s.mean = v;
    // The long-term baseline moves too, and its spread takes in the jump, so that a return to the old
    // level (the fault repaired) is not itself reported as a drift.
    const e = v - f[F_LMEAN];
    if (e * e > f[F_LVAR]) f[F_LVAR] = e * e;
    f[F_LMEAN] = v;
    f[F_CUP] = 0;
    f[F_CDN] = 0;
    s.statsTs = t;
    s.frozen = t;
    return true;
  }
  if (s.frozen === s.frozen) s.frozen = NaN;
  s.statsTs = t;
  if (dt <= 0) return false;
  const n = s.n;
  if (dt !== s.cdt) {
    const p = s.period;
    s.cdt = dt;
    s.alpha = 1 - Math.exp(-dt / statsWindow(s, dt));
    if (r.drift === r.drift) {
      f[F_BETA] = 1 - Math.exp(-dt / (DRIFT_WINDOW_PERIODS * (p === p ? p : dt)));
      f[F_BETAV] = 1 - Math.exp(-dt / (DRIFT_VAR_WINDOWS * DRIFT_WINDOW_PERIODS * (p === p ? p : dt)));
    }
  }
  let alpha = s.alpha;
  if (alpha < 1 / (n + 1)) alpha = 1 / (n + 1);
  else if (alpha > MAX_ALPHA) alpha = MAX_ALPHA; // after a gap, one reading does not replace what was learned
  const d = v - s.mean;
  s.mean += alpha * d;
  s.variance = (1 - alpha) * (s.variance + alpha * d * d);
  if (r.drift === r.drift) {
    // the long-term baseline: a plain average over the first DRIFT_WINDOW_PERIODS readings, then exponential
    let beta = f[F_BETA];
    if (beta < 1 / (n + 1)) beta = 1 / (n + 1);
    else if (beta > MAX_ALPHA) beta = MAX_ALPHA;
    const e = v - f[F_LMEAN];
    f[F_LMEAN] += beta * e;
    // The spread learns ten times slower than the level, from residuals clipped at 3 σ: a drift keeps the
    // level lagging by a steady amount, which must stay a departure rather than become the normal spread.
    let bv = f[F_BETAV];
    if (bv < 1 / (n + 1)) bv = 1 / (n + 1);
    else if (bv > MAX_ALPHA) bv = MAX_ALPHA;
    const lim = n > MIN_DRIFT_N ? 3 * Math.sqrt(f[F_LVAR]) : Infinity;
    const ec = e > lim ? lim : e < -lim ? -lim : e;
    f[F_LVAR] = (1 - bv) * (f[F_LVAR] + bv * ec * ec);
  }
  if (n < 1e9) s.n = n + 1;
  return false;
}

/** true when the statistics' alarms (zscore, drift) are active */
export function statsAlarmed(s: SensorState): boolean {
  return (s.active & ((1 << K_Z) | (1 << K_DRIFT))) !== 0;
}

/**
 * Rate in units/s: the exponentially weighted least-squares slope over rateWindowMs (weights
 * with a time constant of half the window), or reading to reading when the window is 0. NaN until there is enough to judge.
 * A repeated timestamp adds its point at the same time, so a step sent that way is not hidden.
 */
export function rateOf(s: SensorState, v: number, t: number): number {
  const f = s.f;
  const r = s.rule;
  const win = r.rateWindowMs;
  if (win === 0) {
    const dt = t - s.refTs;
    if (!(dt > 0)) {
      if (s.refTs !== s.refTs) { s.refTs = t; s.refV = v; }
      return NaN; // time has not moved: keep the reference from before, so the next reading sees the step
    }
    const rate = ((v - s.refV) * 1000) / dt;
    s.refTs = t;
    s.refV = v;
    return rate;
  }
  const prevT = f[F_RATE_TS];
  if (prevT !== prevT) {
    f[F_RATE_TS] = t;
    f[F_RREF] = v;
    f[F_RW] = 1;
    return NaN;
  }
  const dt = t > prevT ? t - prevT : 0;
  const dv = v - f[F_RREF];
  // Move the origin to (t, v): t' = t − dt, v' = v − dv for every earlier point.
  const W = f[F_RW], T = f[F_RT], V = f[F_RV];
  let TT = f[F_RTT] - 2 * dt * T + dt * dt * W;
  let TV = f[F_RTV] - dt * V - dv * T + dt * dv * W;
  let T1 = T - dt * W;
  let V1 = V - dv * W;
  let W1 = W;
  if (dt > 0 && win === win) {
    if (dt !== f[F_RDT]) {
      f[F_RDT] = dt;
      f[F_LAMBDA] = Math.exp((-2 * dt) / win); // exponential weights with a time constant of half the window
    }
    const lam = f[F_LAMBDA];
    W1 *= lam; T1 *= lam; V1 *= lam; TT *= lam; TV *= lam;
  }
  W1 += 1; // the new point at (0, 0)
  f[F_RW] = W1; f[F_RT] = T1; f[F_RTT] = TT; f[F_RV] = V1; f[F_RTV] = TV;
  f[F_RATE_TS] = t > prevT ? t : prevT;
  f[F_RREF] = v;
  if (win !== win || W1 < 2.5) return NaN;
  const den = W1 * TT - T1 * T1;
  if (!(den > 0)) return NaN;
  return ((W1 * TV - T1 * V1) / den) * 1000;
}
