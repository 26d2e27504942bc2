// Statistics on a sensor's readings for the anomaly detector: resolution, rolling mean/σ with a
// bounded freeze (z-score), drift CUSUM against a long-term baseline, and the windowed rate.
// They live in `SensorState.st` and `.rw` (sensor.ts). No node-red import.
import type { SensorState } from './sensor';
import { K_Z, K_DRIFT, K_FLAT, VALUE_MASK } from './rules';

/** learning pauses while one of these is active: a value alarm, or a stuck value (it would collapse σ) */
const FREEZE_MASK = VALUE_MASK | (1 << K_FLAT);

// The indices into `st` (z-score and drift) and `rw` (windowed rate) are local constants (an exported
// const is a module property load at every use).
const S_MEAN = 0;
const S_VAR = 1;
const S_N = 2;
const S_STATS_TS = 3;
const S_RES = 4; // resolution: the smallest decimal step seen (Infinity until known)
const S_WARM = 5; // 1 once the warm-up is over
const S_FROZEN = 6; // learning frozen since (NaN = learning)
const S_DT = 7; // the last interval and the smoothing factors computed for it (regular sampling: exp() once)
const S_ALPHA = 8;
const S_STATS_SINCE = 9;
const S_Z_SIZE = 10; // the block ends here for a rule without drift
const S_BETA = 10;
const S_BETAV = 11;
const S_CUP = 12; // drift CUSUM, upward and downward
const S_CDN = 13;
const S_LMEAN = 14; // long-term baseline for drift (window DRIFT_WINDOW_PERIODS) and its spread
const S_LVAR = 15;
const S_SIZE = 16;
const R_W = 0; // windowed rate: exponentially weighted sums around (newest t, newest v)
const R_T = 1;
const R_TT = 2;
const R_V = 3;
const R_TV = 4;
const R_TS = 5;
const R_REF = 6; // the value origin
const R_DT = 7; // the last interval and its weight factor
const R_LAMBDA = 8;
const R_SIZE = 9;

export {
  S_MEAN, S_VAR, S_N, S_STATS_TS, S_RES, S_WARM, S_FROZEN, S_STATS_SINCE, S_CUP, S_CDN, S_LMEAN, S_LVAR, S_SIZE, S_Z_SIZE, R_SIZE,
  MIN_STATS_N, Z_WINDOW_PERIODS, DRIFT_WINDOW_PERIODS, MIN_DRIFT_N,
};

/** n doubles in a plain array (kept unboxed on the heap) */
export function doubles(n: number, fill: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(fill);
  return a;
}
/** a new sensor's statistics */
export function newStats(drift: boolean): number[] {
  const a = doubles(drift ? S_SIZE : S_Z_SIZE, NaN);
  a[S_VAR] = 0;
  a[S_N] = 0;
  a[S_RES] = Infinity;
  a[S_WARM] = 0;
  if (drift) {
    a[S_CUP] = 0;
    a[S_CDN] = 0;
    a[S_LVAR] = 0;
  }
  return a;
}
export function newRateWindow(): number[] {
  const a = doubles(R_SIZE, 0);
  a[R_TS] = NaN;
  a[R_REF] = NaN;
  a[R_DT] = NaN;
  a[R_LAMBDA] = NaN;
  return a;
}

/** readings before z-score and drift are judged */
const MIN_STATS_N = 30;
/** default window of the rolling statistics, in sensor periods */
const Z_WINDOW_PERIODS = 60;
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
  const st = s.st as number[];
  if (st[S_N] < 16 || (st[S_N] & 63) === 0) {
    const step = decimalStep(v);
    if (step < st[S_RES]) st[S_RES] = step;
  }
}

/** The σ used for z: the learned deviation, never below zscoreMinStd or the sensor's resolution. */
export function sigma(s: SensorState): number {
  const st = s.st as number[];
  const std = Math.sqrt(st[S_VAR]);
  const floor = s.rule.zscoreMinStd > st[S_RES] || st[S_RES] === Infinity ? s.rule.zscoreMinStd : st[S_RES];
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
  const st = s.st as number[];
  if (st[S_WARM] !== 1) {
    if (st[S_N] < MIN_STATS_N) return NaN;
    const warm = s.rule.zscoreWarmupMs > 0 ? s.rule.zscoreWarmupMs : statsWindow(s, 0);
    if (!(t - st[S_STATS_SINCE] >= warm)) return NaN;
    st[S_WARM] = 1;
  }
  const sd = sigma(s);
  return sd > 0 ? (v - st[S_MEAN]) / sd : v === st[S_MEAN] ? 0 : NaN;
}

/** Drift CUSUM update with v against the long-term baseline; returns the larger side, NaN while warming up. */
export function cusum(s: SensorState, v: number): number {
  const st = s.st as number[];
  if (st[S_N] < MIN_DRIFT_N) return NaN;
  const sd = Math.sqrt(st[S_LVAR]);
  const floor = sigma(s);
  const z = (v - st[S_LMEAN]) / (sd > floor ? sd : floor);
  if (z !== z) return NaN;
  const c = z > DRIFT_CLIP ? DRIFT_CLIP : z < -DRIFT_CLIP ? -DRIFT_CLIP : z;
  const cap = 2 * s.rule.drift;
  let up = st[S_CUP] + c - DRIFT_K;
  let dn = st[S_CDN] - c - DRIFT_K;
  up = up < 0 ? 0 : up > cap ? cap : up;
  dn = dn < 0 ? 0 : dn > cap ? cap : dn;
  st[S_CUP] = up;
  st[S_CDN] = dn;
  return up > dn ? up : dn;
}

/**
 * Rolling mean and variance (exponentially weighted, a plain average until the window fills).
 * Learning pauses while a value alarm is active, for at most freezeMaxMs; then the baseline is
 * re-seeded at the current value (returns true: the statistics' alarms are re-judged from there).
 */
export function learn(s: SensorState, v: number, t: number): boolean {
  const st = s.st as number[];
  const r = s.rule;
  if (st[S_N] === 0) {
    st[S_MEAN] = v;
    st[S_VAR] = 0;
    if (st.length === S_SIZE) {
      st[S_LMEAN] = v;
      st[S_LVAR] = 0;
    }
    st[S_N] = 1;
    st[S_STATS_SINCE] = t;
    st[S_STATS_TS] = t;
    return false;
  }
  const dt = t - st[S_STATS_TS];
  if ((s.active & FREEZE_MASK) !== 0) {
    st[S_STATS_TS] = t; // time spent frozen is not learning time
    if (st[S_FROZEN] !== st[S_FROZEN]) st[S_FROZEN] = t;
    if (t - st[S_FROZEN] < r.freezeMaxMs) return false;
    // Frozen long enough: this is the new normal. Relearn from here; σ keeps its scale.
    st[S_MEAN] = v;
    // The long-term baseline moves too, and its spread takes in the jump, so that a return to the old
    // level (the fault repaired) is not itself reported as a drift.
    if (st.length === S_SIZE) {
      const e = v - st[S_LMEAN];
      if (e * e > st[S_LVAR]) st[S_LVAR] = e * e;
      st[S_LMEAN] = v;
      st[S_CUP] = 0;
      st[S_CDN] = 0;
    }
    st[S_STATS_TS] = t;
    st[S_FROZEN] = t;
    return true;
  }
  if (st[S_FROZEN] === st[S_FROZEN]) st[S_FROZEN] = NaN;
  st[S_STATS_TS] = t;
  if (dt <= 0) return false;
  const n = st[S_N];
  if (dt !== st[S_DT]) {
    const p = s.period;
    st[S_DT] = dt;
    st[S_ALPHA] = 1 - Math.exp(-dt / statsWindow(s, dt));
    if (r.drift === r.drift) {
      st[S_BETA] = 1 - Math.exp(-dt / (DRIFT_WINDOW_PERIODS * (p === p ? p : dt)));
      st[S_BETAV] = 1 - Math.exp(-dt / (DRIFT_VAR_WINDOWS * DRIFT_WINDOW_PERIODS * (p === p ? p : dt)));
    }
  }
  let alpha = st[S_ALPHA];
  if (alpha * (n + 1) < 1) alpha = 1 / (n + 1);
  else if (alpha > MAX_ALPHA) alpha = MAX_ALPHA; // after a gap, one reading does not replace what was learned
  const d = v - st[S_MEAN];
  st[S_MEAN] += alpha * d;
  st[S_VAR] = (1 - alpha) * (st[S_VAR] + alpha * d * d);
  if (r.drift === r.drift) {
    // the long-term baseline: a plain average over the first DRIFT_WINDOW_PERIODS readings, then exponential
    let beta = st[S_BETA];
    if (beta * (n + 1) < 1) beta = 1 / (n + 1);
    else if (beta > MAX_ALPHA) beta = MAX_ALPHA;
    const e = v - st[S_LMEAN];
    st[S_LMEAN] += beta * e;
    // The spread learns ten times slower than the level, from residuals clipped at 3 σ: a drift keeps the
    // level lagging by a steady amount, which must stay a departure rather than become the normal spread.
    let bv = st[S_BETAV];
    if (bv * (n + 1) < 1) bv = 1 / (n + 1);
    else if (bv > MAX_ALPHA) bv = MAX_ALPHA;
    const lim = n > MIN_DRIFT_N ? 3 * Math.sqrt(st[S_LVAR]) : Infinity;
    const ec = e > lim ? lim : e < -lim ? -lim : e;
    st[S_LVAR] = (1 - bv) * (st[S_LVAR] + bv * ec * ec);
  }
  if (n < 1e9) st[S_N] = n + 1;
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
  const rw = s.rw as number[];
  const prevT = rw[R_TS];
  if (prevT !== prevT) {
    rw[R_TS] = t;
    rw[R_REF] = v;
    rw[R_W] = 1;
    return NaN;
  }
  const dt = t > prevT ? t - prevT : 0;
  const dv = v - rw[R_REF];
  // Move the origin to (t, v): t' = t − dt, v' = v − dv for every earlier point.
  const W = rw[R_W], T = rw[R_T], V = rw[R_V];
  let TT = rw[R_TT] - 2 * dt * T + dt * dt * W;
  let TV = rw[R_TV] - dt * V - dv * T + dt * dv * W;
  let T1 = T - dt * W;
  let V1 = V - dv * W;
  let W1 = W;
  if (dt > 0 && win === win) {
    if (dt !== rw[R_DT]) {
      rw[R_DT] = dt;
      rw[R_LAMBDA] = Math.exp((-2 * dt) / win); // exponential weights with a time constant of half the window
    }
    const lam = rw[R_LAMBDA];
    W1 *= lam; T1 *= lam; V1 *= lam; TT *= lam; TV *= lam;
  }
  W1 += 1; // the new point at (0, 0)
  rw[R_W] = W1; rw[R_T] = T1; rw[R_TT] = TT; rw[R_V] = V1; rw[R_TV] = TV;
  rw[R_TS] = t > prevT ? t : prevT;
  rw[R_REF] = v;
  if (win !== win || W1 < 2.5) return NaN;
  const den = W1 * TT - T1 * T1;
  if (!(den > 0)) return NaN;
  return ((W1 * TV - T1 * V1) / den) * 1000;
}
