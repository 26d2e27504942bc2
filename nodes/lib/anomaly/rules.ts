// Anomaly rules: validation and compilation. DESIGN.md fixes match/baseline/deviation/hihi/hi/lo/lolo/
// deadband/onDelayMs/offDelayMs; the rest are this detector's additions.
import { compileGlob, Matcher } from './glob';
import { requireNumber } from '../common/numbers';

export interface AnomalyRule {
  /** glob on sensorId: `TEMP-*`, `*`, `LINE?-PT-*` */
  match: string;
  baseline?: number;
  deviation?: number;
  hihi?: number;
  hi?: number;
  lo?: number;
  lolo?: number;
  /** hysteresis in value units: a limit alarm clears only this far back inside the limit */
  deadband?: number;
  /** the condition must hold this long (reading time) before the alarm goes active */
  onDelayMs?: number;
  /** the clear condition must hold this long before the alarm clears */
  offDelayMs?: number;
  /** maximum |rate of change| in units per second */
  rate?: number;
  /** the rate is the least-squares slope over this window (exponentially weighted); default 0 = reading to reading */
  rateWindowMs?: number;
  /** hysteresis in units per second: a rate alarm clears only below rate − rateDeadband */
  rateDeadband?: number;
  /** |z| above this raises a zscore alarm (rolling EWMA mean and deviation) */
  zscore?: number;
  /** time constant of the rolling mean and deviation; default 60 sensor periods */
  zscoreWindowMs?: number;
  /** no z-score or drift before this much time (and at least 30 readings) has been learned */
  zscoreWarmupMs?: number;
  /** σ floor in value units (the sensor's resolution is always a floor too) */
  zscoreMinStd?: number;
  /** learning pauses while a value alarm is active, but never longer than this; then the baseline relearns (default 1 h) */
  freezeMaxMs?: number;
  /** drift (two-sided CUSUM on the standardized residual): alarm when the cumulative excess passes this many σ; lower = more sensitive */
  drift?: number;
  /** flatline: changes no larger than flatlineEpsilon for at least flatlineMs (and at least 3 sensor periods) */
  flatlineMs?: number;
  /** flatline after this many sensor periods without change (used when flatlineMs is not set) */
  flatlinePeriods?: number;
  flatlineEpsilon?: number;
  /** stale: no reading for staleMs (never less than 2 sensor periods) */
  staleMs?: number;
  /** stale after this many learned sensor periods without a reading (used when staleMs is not set) */
  stalePeriods?: number;
  /** alarm on quality "bad" from upstream (default true) */
  quality?: boolean;
  /** when an alarm starts chattering, shelve it for this long (0 = only mark it) */
  chatterShelveMs?: number;
}

export const KINDS = ['deviation', 'hihi', 'hi', 'lo', 'lolo', 'rate', 'zscore', 'flatline', 'stale', 'quality', 'drift'] as const;
export type Kind = (typeof KINDS)[number];
export const K_DEV = 0, K_HIHI = 1, K_HI = 2, K_LO = 3, K_LOLO = 4, K_RATE = 5, K_Z = 6, K_FLAT = 7, K_STALE = 8, K_QUAL = 9, K_DRIFT = 10;
/** alarms whose condition is on the value: learning of the rolling statistics pauses while one is active */
export const VALUE_MASK = ((1 << K_FLAT) - 1) | (1 << K_DRIFT);
export const SEVERITY: readonly string[] = ['medium', 'high', 'medium', 'medium', 'high', 'medium', 'low', 'medium', 'medium', 'low', 'low'];
/** severity rank, for escalation within an episode */
export const SEVERITY_RANK: readonly number[] = SEVERITY.map((s) => (s === 'high' ? 3 : s === 'medium' ? 2 : 1));

/**
 * The rule a new genix-anomaly node starts with: works on 100 ms, 1 s and 5 min data without tuning,
 * because every time setting is a multiple of each sensor's learned period.
 */
export const DEFAULT_RULES: AnomalyRule[] = [{ match: '*', zscore: 6, drift: 25, flatlinePeriods: 30, stalePeriods: 5 }];

export interface CompiledRule {
  index: number;
  match: string;
  test: Matcher;
  source: AnomalyRule;
  /** bit per kind this rule can raise */
  mask: number;
  /** the rolling statistics are needed (zscore or drift) */
  stats: boolean;
  baseline: number;
  deviation: number;
  hihi: number;
  hi: number;
  lo: number;
  lolo: number;
  deadband: number;
  onDelayMs: number;
  offDelayMs: number;
  /** both delays are 0: alarms follow their condition at once (no timers kept) */
  noDelays: boolean;
  rate: number;
  /** 0 = reading to reading */
  rateWindowMs: number;
  rateDeadband: number;
  zscore: number;
  zscoreClear: number;
  /** NaN = 60 sensor periods */
  zscoreWindowMs: number;
  zscoreWarmupMs: number;
  zscoreMinStd: number;
  freezeMaxMs: number;
  drift: number;
  /** NaN when off */
  flatlineMs: number;
  flatlinePeriods: number;
  flatlineEpsilon: number;
  /** NaN when not set (then stalePeriods applies) */
  staleMs: number;
  stalePeriods: number;
  quality: boolean;
  chatterShelveMs: number;
}

const NUMBER_PROPS = ['baseline', 'deviation', 'hihi', 'hi', 'lo', 'lolo', 'deadband', 'onDelayMs', 'offDelayMs', 'rate', 'rateWindowMs', 'rateDeadband',
  'zscore', 'zscoreWindowMs', 'zscoreWarmupMs', 'zscoreMinStd', 'freezeMaxMs', 'drift', 'flatlineMs', 'flatlinePeriods', 'flatlineEpsilon',
  'staleMs', 'stalePeriods', 'chatterShelveMs'] as const;
const NON_NEGATIVE = new Set(['deviation', 'deadband', 'onDelayMs', 'offDelayMs', 'rate', 'rateWindowMs', 'rateDeadband', 'zscore', 'zscoreMinStd',
  'flatlineEpsilon', 'chatterShelveMs']);
const POSITIVE = new Set(['zscoreWindowMs', 'zscoreWarmupMs', 'freezeMaxMs', 'drift', 'flatlineMs', 'flatlinePeriods', 'staleMs', 'stalePeriods']);
const KNOWN = new Set<string>(['match', 'quality', 'name', ...NUMBER_PROPS]);

/** Validates and compiles rules; throws an Error naming the first bad property. */
export function compileRules(rules: unknown): CompiledRule[] {
  if (!Array.isArray(rules)) throw new Error('rules must be an array');
  return rules.map((r, i) => compileRule(r, i));
}

function compileRule(r: any, i: number): CompiledRule {
  const where = `rules[${i}]`;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${where} must be an object`);
  if (typeof r.match !== 'string' || r.match === '') throw new Error(`${where}.match must be a non-empty glob string`);
  for (const k of Object.keys(r)) if (!KNOWN.has(k)) throw new Error(`${where}.${k} is not a rule property`);
  const num = (k: (typeof NUMBER_PROPS)[number]): number => {
    return requireNumber(r[k], `${where}.${k}`, NaN, { min: NON_NEGATIVE.has(k) ? 0 : undefined, positive: POSITIVE.has(k) });
  };
  const c: CompiledRule = {
    index: i, match: r.match, test: compileGlob(r.match), source: r, mask: 0, stats: false,
    baseline: num('baseline'), deviation: num('deviation'), hihi: num('hihi'), hi: num('hi'), lo: num('lo'), lolo: num('lolo'),
    deadband: orDefault(num('deadband'), 0), onDelayMs: orDefault(num('onDelayMs'), 0), offDelayMs: orDefault(num('offDelayMs'), 0), noDelays: false,
    rate: num('rate'), rateWindowMs: orDefault(num('rateWindowMs'), 0), rateDeadband: orDefault(num('rateDeadband'), 0),
    zscore: num('zscore'), zscoreClear: NaN,
    zscoreWindowMs: num('zscoreWindowMs'), zscoreWarmupMs: orDefault(num('zscoreWarmupMs'), 0), zscoreMinStd: orDefault(num('zscoreMinStd'), 0),
    freezeMaxMs: orDefault(num('freezeMaxMs'), 3600000), drift: num('drift'),
    flatlineMs: num('flatlineMs'), flatlinePeriods: num('flatlinePeriods'), flatlineEpsilon: orDefault(num('flatlineEpsilon'), 0),
    staleMs: num('staleMs'), stalePeriods: num('stalePeriods'),
    quality: r.quality === undefined ? true : r.quality === true || r.quality === 'true',
    chatterShelveMs: orDefault(num('chatterShelveMs'), 0),
  };
  if (r.quality !== undefined && typeof r.quality !== 'boolean' && r.quality !== 'true' && r.quality !== 'false') {
    throw new Error(`${where}.quality must be true or false`);
  }
  c.zscoreClear = Math.max(0, c.zscore - 1);
  c.noDelays = c.onDelayMs === 0 && c.offDelayMs === 0;
  if (Number.isNaN(c.baseline) !== Number.isNaN(c.deviation)) throw new Error(`${where}: baseline and deviation go together`);
  if (!Number.isNaN(c.hihi) && !Number.isNaN(c.hi) && c.hihi < c.hi) throw new Error(`${where}.hihi must be >= hi`);
  if (!Number.isNaN(c.lolo) && !Number.isNaN(c.lo) && c.lolo > c.lo) throw new Error(`${where}.lolo must be <= lo`);
  if (!Number.isNaN(c.hi) && !Number.isNaN(c.lo) && c.lo >= c.hi) throw new Error(`${where}.lo must be < hi`);
  if (c.rateDeadband > 0 && !(c.rateDeadband < c.rate)) throw new Error(`${where}.rateDeadband must be smaller than rate`);
  const on = (k: number, yes: boolean) => { if (yes) c.mask |= 1 << k; };
  on(K_DEV, !Number.isNaN(c.deviation));
  on(K_HIHI, !Number.isNaN(c.hihi));
  on(K_HI, !Number.isNaN(c.hi));
  on(K_LO, !Number.isNaN(c.lo));
  on(K_LOLO, !Number.isNaN(c.lolo));
  on(K_RATE, !Number.isNaN(c.rate));
  on(K_Z, !Number.isNaN(c.zscore));
  on(K_FLAT, !Number.isNaN(c.flatlineMs) || !Number.isNaN(c.flatlinePeriods));
  on(K_STALE, !Number.isNaN(c.staleMs) || !Number.isNaN(c.stalePeriods));
  on(K_QUAL, c.quality);
  on(K_DRIFT, !Number.isNaN(c.drift));
  c.stats = (c.mask & ((1 << K_Z) | (1 << K_DRIFT))) !== 0;
  return c;
}

function orDefault(v: number, d: number): number {
  return Number.isNaN(v) ? d : v;
}

/** The first rule whose glob matches, or null. */
export function findRule(rules: CompiledRule[], sensorId: string): CompiledRule | null {
  for (let i = 0; i < rules.length; i++) if (rules[i].test(sensorId)) return rules[i];
  return null;
}
