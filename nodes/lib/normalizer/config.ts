// The normalizer's configuration (the node's saved properties) and its deploy-time compilation.

import { compilePath, CompiledPath, FORBIDDEN_KEYS } from './paths';
import { TS_FORMATS, TsFormat } from './timestamps';
import { TopicParser } from './topic';
import { canonicalUnit, conversion, measurementDef, parseMeasurementKey } from './units';
import { requireNumber } from '../common/numbers';

export type EnrichType = 'str' | 'msg' | 'flow' | 'global' | 'env';
export const ENRICH_TYPES: readonly EnrichType[] = ['str', 'msg', 'flow', 'global', 'env'];

export interface ValueSpec { path: string; measurement?: string; unit?: string }

export interface NormalizerRule {
  /** measurement name ("temperature"), sensorId ("TT-101") or glob on either ("TT-*"); empty or "*" = every reading */
  match?: string;
  /** unit of the value when the payload does not say; with scaling, the unit of the engineering range */
  from?: string;
  /** convert to this unit */
  to?: string;
  rawMin?: number | string; rawMax?: number | string; engMin?: number | string; engMax?: number | string;
  /** plausible range, in the unit the reading leaves with; outside → invalid */
  min?: number | string; max?: number | string;
  /** a raw value outside rawMin..rawMax (a broken 4-20 mA loop): mark "uncertain" (default) or send to invalid */
  outOfRange?: 'uncertain' | 'invalid';
}

export interface TagSpec { key: string; value: string; type?: EnrichType }

export interface NormalizerConfig {
  sensorIdFrom?: 'auto' | 'topic' | 'path' | 'fixed';
  topicPattern?: string;
  sensorIdPath?: string;
  sensorIdValue?: string;
  values?: ValueSpec[];
  tsPath?: string;
  tsFormat?: TsFormat;
  unitPath?: string;
  qualityPath?: string;
  skew?: 'off' | 'correct' | 'invalid';
  maxFutureMs?: number | string;
  maxPastMs?: number | string;
  rules?: NormalizerRule[];
  output?: 'each' | 'batch';
  maxBytes?: number | string;
  maxReadings?: number | string;
  maxDepth?: number | string;
  plantId?: string; plantIdType?: EnrichType;
  lineId?: string; lineIdType?: EnrichType;
  assetId?: string; assetIdType?: EnrichType;
  tags?: TagSpec[];
  /** Sparkplug B in: answer DATA before its BIRTH with a ready NCMD rebirth request on the invalid output */
  sparkplugRebirth?: boolean;
}

export interface CompiledRule {
  all: boolean;
  /** exact sensorId, or measurement name (canonical in exactMeasurement) */
  exact?: string;
  exactMeasurement?: string;
  glob?: RegExp;
  from?: string;
  to?: string;
  rawMin: number; rawMax: number; engMin: number; engMax: number;
  scaled: boolean;
  /** (engMax - engMin) / (rawMax - rawMin) */
  k: number;
  min: number; max: number;
  limited: boolean;
  rangeInvalid: boolean;
}

export interface CompiledValue { path: CompiledPath; measurement?: string; unit?: string; numeric: boolean }

export interface CompiledConfig {
  sensorIdFrom: 'auto' | 'topic' | 'path' | 'fixed';
  topic: TopicParser;
  sensorIdPath: CompiledPath | null;
  sensorIdValue: string;
  values: CompiledValue[] | null;
  tsPath: CompiledPath | null;
  tsFormat: TsFormat;
  unitPath: CompiledPath | null;
  qualityPath: CompiledPath | null;
  skew: 'off' | 'correct' | 'invalid';
  maxFutureMs: number;
  maxPastMs: number;
  rules: CompiledRule[];
  output: 'each' | 'batch';
  maxBytes: number;
  maxReadings: number;
  maxDepth: number;
}

export const DEFAULTS = {
  maxFutureMs: 60000,
  maxPastMs: 7 * 24 * 3600 * 1000,
  maxBytes: 1048576,
  maxReadings: 20000,
  maxDepth: 32,
};

export class ConfigError extends Error {}

function num(v: unknown, what: string, dflt: number): number;
function num(v: unknown, what: string): number | undefined;
function num(v: unknown, what: string, dflt?: number): number | undefined {
  try {
    return requireNumber(v, what, dflt);
  } catch (e: any) {
    throw new ConfigError(e.message);
  }
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T, what: string): T {
  if (v === undefined || v === null || v === '') return dflt;
  if (!allowed.includes(v as T)) throw new ConfigError(`${what}: "${String(v)}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

function path(p: unknown, what: string): CompiledPath | null {
  if (p === undefined || p === null || String(p).trim() === '') return null;
  try {
    return compilePath(String(p));
  } catch (e: any) {
    throw new ConfigError(`${what}: ${e.message}`);
  }
}

function unit(u: unknown, what: string): string | undefined {
  if (u === undefined || u === null || String(u).trim() === '') return undefined;
  const c = canonicalUnit(String(u));
  if (!c) throw new ConfigError(`${what}: unknown unit "${String(u)}"`);
  return c;
}

function globToRegExp(glob: string): RegExp {
  const src = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${src}$`);
}

function compileRule(r: NormalizerRule, i: number): CompiledRule {
  const what = `rule ${i + 1}`;
  if (r === null || typeof r !== 'object') throw new ConfigError(`${what}: not an object`);
  const match = String(r.match ?? '').trim();
  const out: CompiledRule = {
    all: match === '' || match === '*',
    from: unit(r.from, `${what} from`),
    to: unit(r.to, `${what} to`),
    rawMin: 0, rawMax: 0, engMin: 0, engMax: 0, scaled: false, k: 1,
    min: -Infinity, max: Infinity, limited: false,
    rangeInvalid: r.outOfRange === 'invalid',
  };
  if (!out.all) {
    if (/[*?]/.test(match)) out.glob = globToRegExp(match);
    else {
      out.exact = match;
      out.exactMeasurement = parseMeasurementKey(match).measurement;
    }
  }
  const rawMin = num(r.rawMin, `${what} raw min`);
  const rawMax = num(r.rawMax, `${what} raw max`);
  const engMin = num(r.engMin, `${what} engineering min`);
  const engMax = num(r.engMax, `${what} engineering max`);
  const scaleParts = [rawMin, rawMax, engMin, engMax].filter((x) => x !== undefined).length;
  if (scaleParts > 0) {
    if (scaleParts < 4) throw new ConfigError(`${what}: scaling needs raw min, raw max, engineering min and engineering max`);
    if (rawMin === rawMax) throw new ConfigError(`${what}: raw min and raw max are equal`);
    Object.assign(out, { rawMin, rawMax, engMin, engMax, scaled: true, k: ((engMax as number) - (engMin as number)) / ((rawMax as number) - (rawMin as number)) });
  }
  const min = num(r.min, `${what} min`);
  const max = num(r.max, `${what} max`);
  if (min !== undefined || max !== undefined) {
    out.min = min ?? -Infinity;
    out.max = max ?? Infinity;
    out.limited = true;
    if (out.min > out.max) throw new ConfigError(`${what}: min is above max`);
  }
  if (out.from && out.to && !conversion(out.from, out.to)) throw new ConfigError(`${what}: cannot convert ${out.from} to ${out.to}`);
  // A rule for a named measurement must not convert it into another dimension (temperature → bar).
  if (out.exact && out.to) {
    const def = measurementDef(parseMeasurementKey(out.exact).measurement);
    if (def?.dim && def.assumedUnit === undefined && def.dim !== undefined && !conversionDimOk(def.dim, out.to)) {
      throw new ConfigError(`${what}: ${out.exact} cannot be converted to ${out.to}`);
    }
  }
  return out;
}

function conversionDimOk(dim: string, to: string): boolean {
  const probe: Record<string, string> = { temperature: 'degC', pressure: 'Pa', velocity: 'mm/s', acceleration: 'm/s²', humidity: '%RH', current: 'mA', voltage: 'V' };
  return probe[dim] === undefined || conversion(probe[dim], to) !== undefined;
}

/** Validates and precompiles a configuration; throws ConfigError saying what is wrong. */
export function compileConfig(c: NormalizerConfig = {}): CompiledConfig {
  const sensorIdFrom = oneOf(c.sensorIdFrom, ['auto', 'topic', 'path', 'fixed'] as const, 'auto', 'sensorId from');
  let topic: TopicParser;
  try {
    topic = new TopicParser(String(c.topicPattern ?? ''));
  } catch (e: any) {
    throw new ConfigError(e.message);
  }
  const sensorIdPath = path(c.sensorIdPath, 'sensorId path');
  const sensorIdValue = String(c.sensorIdValue ?? '').trim();
  if (sensorIdFrom === 'path' && !sensorIdPath) throw new ConfigError('sensorId from a payload path needs the path');
  if (sensorIdFrom === 'fixed' && sensorIdValue === '') throw new ConfigError('a fixed sensorId needs a value');
  if (sensorIdFrom === 'fixed' && FORBIDDEN_KEYS.has(sensorIdValue)) throw new ConfigError(`"${sensorIdValue}" is not allowed as a sensorId`);
  if (sensorIdFrom === 'topic' && !topic.hasPattern) throw new ConfigError('sensorId from the topic needs a topic pattern such as sensors/+sensorId/data');

  let values: CompiledValue[] | null = null;
  if (Array.isArray(c.values) && c.values.length > 0) {
    values = c.values.map((v, i) => {
      const p = path(v?.path, `value ${i + 1} path`);
      if (!p) throw new ConfigError(`value ${i + 1}: the path is empty`);
      const lastKey = [...p].reverse().find((s) => typeof s === 'string') as string | undefined;
      const meaning = lastKey ? parseMeasurementKey(lastKey) : undefined;
      const m = String(v.measurement ?? '').trim();
      if (FORBIDDEN_KEYS.has(m)) throw new ConfigError(`value ${i + 1}: "${m}" is not allowed as a measurement`);
      const explicit = m !== '' ? parseMeasurementKey(m) : undefined;
      const measurement = explicit ? explicit.measurement : meaning?.numeric ? meaning.measurement : undefined;
      return {
        path: p,
        measurement,
        unit: unit(v.unit, `value ${i + 1} unit`) ?? explicit?.unit ?? (meaning?.numeric ? meaning.unit : undefined),
        numeric: Boolean(explicit?.numeric || meaning?.numeric),
      };
    });
  }

  const rules = Array.isArray(c.rules) ? c.rules.map(compileRule) : [];
  const out: CompiledConfig = {
    sensorIdFrom,
    topic,
    sensorIdPath,
    sensorIdValue,
    values,
    tsPath: path(c.tsPath, 'timestamp path'),
    tsFormat: oneOf(c.tsFormat, TS_FORMATS, 'auto', 'timestamp format'),
    unitPath: path(c.unitPath, 'unit path'),
    qualityPath: path(c.qualityPath, 'quality path'),
    skew: oneOf(c.skew, ['off', 'correct', 'invalid'] as const, 'off', 'clock-skew guard'),
    maxFutureMs: num(c.maxFutureMs, 'max future', DEFAULTS.maxFutureMs),
    maxPastMs: num(c.maxPastMs, 'max past', DEFAULTS.maxPastMs),
    rules,
    output: oneOf(c.output, ['each', 'batch'] as const, 'each', 'output'),
    maxBytes: num(c.maxBytes, 'max bytes', DEFAULTS.maxBytes),
    maxReadings: num(c.maxReadings, 'max readings', DEFAULTS.maxReadings),
    maxDepth: num(c.maxDepth, 'max depth', DEFAULTS.maxDepth),
  };
  if (out.maxFutureMs < 0 || out.maxPastMs < 0) throw new ConfigError('clock-skew limits must not be negative');
  if (out.maxBytes < 1 || out.maxReadings < 1 || out.maxDepth < 1) throw new ConfigError('size limits must be positive');
  return out;
}

/** Validates tag keys from the config: no prototype keys, no empty keys, no duplicates. */
export function checkTagKeys(tags: TagSpec[] | undefined): void {
  const seen = new Set<string>();
  for (const t of tags ?? []) {
    const k = String(t?.key ?? '').trim();
    if (k === '') throw new ConfigError('a tag has an empty key');
    if (FORBIDDEN_KEYS.has(k)) throw new ConfigError(`"${k}" is not allowed as a tag key`);
    if (seen.has(k)) throw new ConfigError(`tag "${k}" is listed twice`);
    seen.add(k);
  }
}
