// Value rules of the normalizer: raw value → number | boolean | text, then the configured rule
// (raw scaling, unit conversion, plausible range) or the built-in plausibility of the measurement.
// Rules, conversions and unit spellings are looked up once per distinct key and cached.

import type { Quality } from '../types';
import { CompiledConfig, CompiledRule } from './config';
import { describe, MAX_TEXT_VALUE, NUMBER_WITH_UNIT, RULE_CACHE_LIMIT, UNIT_CACHE_LIMIT, worse } from './fields';
import { InvalidCode, InvalidRecorder, NOT_PARSED } from './invalid';
import { canonicalUnit, conversion, inBase, Linear, measurementDef, measurementForUnit, unitDimension } from './units';

export class ValueRules extends InvalidRecorder {
  private readonly unitCache = new Map<string, string>();
  private readonly ruleCache = new Map<string, Map<string, CompiledRule | null>>();
  private ruleCacheSize = 0;
  private readonly convCache = new Map<string, Map<string, Linear | null>>();

  /** the unit written in a text value ("21.5 degC"), set by coerce() */
  protected textUnit: string | undefined = undefined;
  /** unit, measurement and quality of the number checkNumber() accepted last */
  protected numUnit: string | undefined = undefined;
  protected numMeasurement: string | undefined = undefined;
  protected numQuality: Quality = 'good';

  constructor(readonly config: CompiledConfig) {
    super();
  }

  protected resolveRule(sensorId: string, measurement: string | undefined): CompiledRule | null {
    const mk = measurement ?? '';
    let bySensor = this.ruleCache.get(mk);
    if (bySensor === undefined) {
      bySensor = new Map();
      this.ruleCache.set(mk, bySensor);
    }
    let r = bySensor.get(sensorId);
    if (r === undefined) {
      r = null;
      for (const rule of this.config.rules) {
        if (rule.all
          || (rule.exact !== undefined && (rule.exact === sensorId || rule.exactMeasurement === measurement))
          || (rule.glob !== undefined && (rule.glob.test(sensorId) || (measurement !== undefined && rule.glob.test(measurement))))) {
          r = rule;
          break;
        }
      }
      if (++this.ruleCacheSize > RULE_CACHE_LIMIT) {
        this.ruleCache.clear();
        this.ruleCacheSize = 0;
      }
      bySensor.set(sensorId, r);
    }
    return r;
  }

  private convert(from: string, to: string): Linear | null {
    let m = this.convCache.get(from);
    if (m === undefined) {
      m = new Map();
      this.convCache.set(from, m);
    }
    let l = m.get(to);
    if (l === undefined) {
      l = conversion(from, to) ?? null;
      m.set(to, l);
    }
    return l;
  }

  protected unitOf(u: unknown): string | undefined {
    if (typeof u !== 'string' || u === '') return undefined;
    const hit = this.unitCache.get(u);
    if (hit !== undefined) return hit;
    const c = canonicalUnit(u) ?? u.slice(0, 32);
    if (this.unitCache.size < UNIT_CACHE_LIMIT) this.unitCache.set(u, c);
    return c;
  }

  /** Turns a raw value into number | boolean | string, or records why it cannot be one. */
  protected coerce(v: unknown, numeric: boolean, sensorId: string, m: string | undefined): number | boolean | string | typeof NOT_PARSED {
    this.textUnit = undefined;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      this.fail('not_finite', `the value is ${v}`, sensorId, m);
      return NOT_PARSED;
    }
    if (typeof v === 'string') {
      const s = v.trim();
      if (s !== '') {
        const n = Number(s);
        if (Number.isFinite(n)) return n;
        if (s === 'NaN' || s === 'Infinity' || s === '-Infinity' || s === '+Infinity') {
          this.fail('not_finite', `the value is ${s}`, sensorId, m);
          return NOT_PARSED;
        }
        const wu = NUMBER_WITH_UNIT.exec(s);
        if (wu) {
          const u = canonicalUnit(wu[2]);
          if (u) {
            this.textUnit = u;
            return Number(wu[1]);
          }
        }
      }
      if (numeric) {
        this.fail('not_a_number', `the value ${describe(v)} is not a number`, sensorId, m);
        return NOT_PARSED;
      }
      if (s === '' || s.length > MAX_TEXT_VALUE) {
        this.fail('no_value', s === '' ? 'the value is empty text' : `the text value is longer than ${MAX_TEXT_VALUE} characters`, sensorId, m);
        return NOT_PARSED;
      }
      return s;
    }
    if (typeof v === 'boolean') {
      if (!numeric) return v;
      this.fail('not_a_number', `the value ${v} is a boolean, not a number`, sensorId, m);
      return NOT_PARSED;
    }
    if (v === undefined || v === null) this.fail('no_value', v === null ? 'the value is null' : 'the value is missing', sensorId, m);
    else this.fail('not_a_number', `the value is ${describe(v)}, not a number`, sensorId, m);
    return NOT_PARSED;
  }

  /**
   * Scales, converts and checks one number by its rule (or the measurement's plausible range).
   * Returns the value, with its unit, measurement and quality in numUnit / numMeasurement /
   * numQuality, or NOT_PARSED when it was rejected (and recorded).
   */
  protected checkNumber(value: number, unit: string | undefined, m: string | undefined, q: Quality, rule: CompiledRule | null, sensorId: string): number | typeof NOT_PARSED {
    if (rule !== null) {
      if (rule.scaled) {
        const lo = rule.rawMin < rule.rawMax ? rule.rawMin : rule.rawMax;
        const hi = rule.rawMin < rule.rawMax ? rule.rawMax : rule.rawMin;
        if (value < lo || value > hi) {
          if (rule.rangeInvalid) return this.reject('out_of_range', `the raw value ${value} is outside ${lo}..${hi}`, sensorId, m);
          q = worse(q, 'uncertain');
        }
        value = rule.engMin + (value - rule.rawMin) * rule.k;
        unit = rule.from;
      } else if (unit === undefined && rule.from !== undefined) {
        unit = rule.from;
      }
    }
    if (unit === undefined && m !== undefined) unit = measurementDef(m)?.assumedUnit;
    if (m === undefined && unit !== undefined) m = measurementForUnit(unit);
    if (rule !== null && rule.to !== undefined && unit !== rule.to) {
      if (unit === undefined) return this.reject('unknown_unit', `cannot convert to ${rule.to}: the value has no unit (set "from" in the rule)`, sensorId, m);
      const lin = this.convert(unit, rule.to);
      if (lin === null) return this.reject(unitDimension(unit) ? 'unit_mismatch' : 'unknown_unit', `cannot convert ${unit} to ${rule.to}`, sensorId, m);
      value = value * lin.a + lin.b;
      unit = rule.to;
    }
    if (rule !== null && rule.limited) {
      if (value < rule.min || value > rule.max) return this.reject('implausible', `${value} ${unit ?? ''} is outside the plausible range ${rule.min}..${rule.max}`.replace('  ', ' '), sensorId, m);
    } else if (m !== undefined) {
      const def = measurementDef(m);
      if (def !== undefined && def.min !== undefined) {
        const ud = unit === undefined ? undefined : unitDimension(unit);
        if (unit !== undefined && ud !== undefined && ud !== def.dim) return this.reject('unit_mismatch', `${m} cannot be in ${unit}`, sensorId, m);
        if (ud !== undefined) {
          const b = inBase(unit as string, value);
          if (b < def.min || b > (def.max as number)) return this.reject('implausible', `${value} ${unit} is not a plausible ${m}`, sensorId, m);
        } else if (def.looseMin !== undefined && (value < def.looseMin || value > (def.looseMax as number))) {
          return this.reject('implausible', `${value} is not a plausible ${m} in any unit`, sensorId, m);
        }
      }
    }
    this.numUnit = unit;
    this.numMeasurement = m;
    this.numQuality = q;
    return value;
  }

  private reject(code: InvalidCode, message: string, sensorId: string, m: string | undefined): typeof NOT_PARSED {
    this.fail(code, message, sensorId, m);
    return NOT_PARSED;
  }
}
