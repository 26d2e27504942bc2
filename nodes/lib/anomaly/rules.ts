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
  /** |z| above this raises a zscore alarm (rolling EWMA mean and deviation) */
  zscore?: number;
  zscoreWindowMs?: number;
  zscoreWarmupMs?: number;
  /** below this standard deviation no z-score is computed (a constant signal is the flatline's job) */
  zscoreMinStd?: number;
  /** flatline: changes no larger than flatlineEpsilon for at least flatlineMs */
  flatlineMs?: number;
  flatlineEpsilon?: number;
  /** stale: no reading for staleMs */
  staleMs?: number;
  /** alarm on quality "bad" from upstream (default true) */
  quality?: boolean;
  /** when an alarm starts chattering, shelve it for this long (0 = only mark it) */
  chatterShelveMs?: number;
}

export const KINDS = ['deviation', 'hihi', 'hi', 'lo', 'lolo', 'rate', 'zscore', 'flatline', 'stale', 'quality'] as const;
export type Kind = (typeof KINDS)[number];
export const K_DEV = 0, K_HIHI = 1, K_HI = 2, K_LO = 3, K_LOLO = 4, K_RATE = 5, K_Z = 6, K_FLAT = 7, K_STALE = 8, K_QUAL = 9;
/** alarms whose condition is on the value: learning of the rolling statistics pauses while one is active */
export const VALUE_MASK = (1 << K_FLAT) - 1;
export const SEVERITY: readonly string[] = ['medium', 'high', 'medium', 'medium', 'high', 'medium', 'low', 'medium', 'medium', 'low'];

export interface CompiledRule {
  index: number;
  match: string;
  test: Matcher;
  source: AnomalyRule;
  /** bit per kind this rule can raise */
  mask: number;
  baseline: number;
  deviation: number;
  hihi: number;
  hi: number;
  lo: number;
  lolo: number;
  deadband: number;
  onDelayMs: number;
  offDelayMs: number;
  rate: number;
  zscore: number;
  zscoreClear: number;
  zscoreWindowMs: number;
  zscoreWarmupMs: number;
  zscoreMinStd: number;
  flatlineMs: number;
  flatlineEpsilon: number;
  /** Infinity when off, so `lastTs + staleMs <= now` never holds */
  staleMs: number;
  quality: boolean;
  chatterShelveMs: number;
}

const NUMBER_PROPS = ['baseline', 'deviation', 'hihi', 'hi', 'lo', 'lolo', 'deadband', 'onDelayMs', 'offDelayMs', 'rate', 'zscore',
  'zscoreWindowMs', 'zscoreWarmupMs', 'zscoreMinStd', 'flatlineMs', 'flatlineEpsilon', 'staleMs', 'chatterShelveMs'] as const;
const NON_NEGATIVE = new Set(['deviation', 'deadband', 'onDelayMs', 'offDelayMs', 'rate', 'zscore', 'zscoreMinStd', 'flatlineEpsilon', 'chatterShelveMs']);
const POSITIVE = new Set(['zscoreWindowMs', 'zscoreWarmupMs', 'flatlineMs', 'staleMs']);
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
    index: i, match: r.match, test: compileGlob(r.match), source: r, mask: 0,
    baseline: num('baseline'), deviation: num('deviation'), hihi: num('hihi'), hi: num('hi'), lo: num('lo'), lolo: num('lolo'),
    deadband: orDefault(num('deadband'), 0), onDelayMs: orDefault(num('onDelayMs'), 0), offDelayMs: orDefault(num('offDelayMs'), 0),
    rate: num('rate'), zscore: num('zscore'), zscoreClear: NaN,
    zscoreWindowMs: orDefault(num('zscoreWindowMs'), 60000), zscoreWarmupMs: NaN, zscoreMinStd: orDefault(num('zscoreMinStd'), 0),
    flatlineMs: num('flatlineMs'), flatlineEpsilon: orDefault(num('flatlineEpsilon'), 0),
    staleMs: orDefault(num('staleMs'), Infinity),
    quality: r.quality === undefined ? true : r.quality === true || r.quality === 'true',
    chatterShelveMs: orDefault(num('chatterShelveMs'), 0),
  };
  if (r.quality !== undefined && typeof r.quality !== 'boolean' && r.quality !== 'true' && r.quality !== 'false') {
    throw new Error(`${where}.quality must be true or false`);
  }
  c.zscoreWarmupMs = orDefault(num('zscoreWarmupMs'), c.zscoreWindowMs);
  c.zscoreClear = Math.max(0, c.zscore - 1);
  if (Number.isNaN(c.baseline) !== Number.isNaN(c.deviation)) throw new Error(`${where}: baseline and deviation go together`);
  if (!Number.isNaN(c.hihi) && !Number.isNaN(c.hi) && c.hihi < c.hi) throw new Error(`${where}.hihi must be >= hi`);
  if (!Number.isNaN(c.lolo) && !Number.isNaN(c.lo) && c.lolo > c.lo) throw new Error(`${where}.lolo must be <= lo`);
  if (!Number.isNaN(c.hi) && !Number.isNaN(c.lo) && c.lo >= c.hi) throw new Error(`${where}.lo must be < hi`);
  const on = (k: number, yes: boolean) => { if (yes) c.mask |= 1 << k; };
  on(0, !Number.isNaN(c.deviation));
  on(1, !Number.isNaN(c.hihi));
  on(2, !Number.isNaN(c.hi));
  on(3, !Number.isNaN(c.lo));
  on(4, !Number.isNaN(c.lolo));
  on(5, !Number.isNaN(c.rate));
  on(6, !Number.isNaN(c.zscore));
  on(7, !Number.isNaN(c.flatlineMs));
  on(8, c.staleMs !== Infinity);
  on(9, c.quality);
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
