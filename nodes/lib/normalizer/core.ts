// The normalizing core: any sensor payload in, canonical readings out, every rejection explained.
// Compiled once per deploy; normalize() allocates nothing per reading but the reading itself.

import { CompiledConfig, compileConfig, NormalizerConfig } from './config';
import { Emitter } from './emit';
import { Enrichment } from './enrich';
import { depthExceeds, getPath } from './paths';
import { TopicInfo } from './topic';
import {
  Ctx, KeyClass, MAX_ITEM_DEPTH, NO_TOPIC, R_ASSET, R_BACKFILL, R_CANDIDATE, R_CONTAINER, R_FORBIDDEN, R_ID, R_LINE, R_MEAS, R_META, R_NAME, R_PLANT, R_QUALITY, R_STATUS, R_TAGS, R_TS, R_UNIT, R_VALUE, autoField, classify, describe, idText, looksNumeric,
} from './fields';
import { InvalidEntry, NOT_PARSED } from './invalid';
import { KeyMeaning, measurementDef, parseMeasurementKey } from './units';
import type { Reading } from '../types';

// The stages live in their own modules, layered by inheritance so the hot path stays one monomorphic class:
// invalid.ts (InvalidRecorder: the invalid entries) → values.ts (ValueRules: coercion, scaling, conversion,
// plausibility) → emit.ts (Emitter: one value → one reading, enrich.ts) → here (Normalizer: the pass over a payload).

export class Normalizer extends Emitter {
  private topicRaw: unknown = undefined;
  private topicInfo: TopicInfo | null = null;
  private readonly scratchKeys: Array<Array<string>> = [];
  private readonly scratchClass: Array<Array<KeyClass>> = [];

  constructor(config: NormalizerConfig | CompiledConfig = {}) {
    super('topic' in config && typeof (config as CompiledConfig).topic === 'object' ? (config as CompiledConfig) : compileConfig(config as NormalizerConfig));
    for (let d = 0; d <= MAX_ITEM_DEPTH; d++) {
      this.scratchKeys.push([]);
      this.scratchClass.push([]);
    }
  }

  /**
   * Appends the readings found in one message to `out`; returns what was invalid, or null when
   * everything was. `arrival` is the receive time (epoch ms), `enrich` the node's plantId etc.
   */
  normalize(topic: unknown, payload: unknown, arrival: number, enrich: Enrichment | null, out: Reading[]): InvalidEntry[] | null {
    this.out = out;
    this.errs = null;
    this.arrival = arrival;
    this.enrich = enrich;
    this.topicRaw = topic;
    this.topicInfo = null;
    this.index = -1;
    this.overflow = 0;
    const before = out.length;
    try {
      this.input(payload);
      // Safety net: a message that yields nothing and no complaint (e.g. []) must still be explained.
      if (out.length === before && this.errs === null && this.overflow === 0) this.fail('no_readings', 'the payload holds no readings');
      if (this.overflow > 0) {
        this.fail('too_many', `${this.overflow} more readings than the limit of ${this.config.maxReadings} per message`);
      }
    } catch (e: any) {
      // A stack overflow or similar on hostile input must still end as an explained rejection.
      this.fail(e instanceof RangeError ? 'too_deep' : 'unsupported_payload', `cannot read the payload: ${e && e.message}`);
    }
    const errs = this.errs;
    this.errs = null;
    this.out = [];
    this.enrich = null;
    this.topicRaw = undefined;
    return errs;
  }

  /** Whether a payload nests deeper than the configured limit (checked on the invalid path only). */
  tooDeep(payload: unknown): boolean {
    return depthExceeds(payload, this.config.maxDepth);
  }

  private topic(): TopicInfo {
    if (this.topicInfo === null) this.topicInfo = this.topicRaw === undefined ? NO_TOPIC : this.config.topic.parse(this.topicRaw);
    return this.topicInfo;
  }

  private input(p: unknown): void {
    if (p === null || p === undefined) return this.fail('empty', 'the payload is empty');
    let v: unknown = p;
    if (Buffer.isBuffer(p)) {
      if (p.length > this.config.maxBytes) return this.fail('too_large', `the payload has ${p.length} bytes, more than the limit of ${this.config.maxBytes}`);
      v = p.toString('utf8');
    }
    if (typeof v === 'string') {
      if (v.length > this.config.maxBytes) return this.fail('too_large', `the payload has ${v.length} characters, more than the limit of ${this.config.maxBytes}`);
      v = this.parseText(v);
      if (v === NOT_PARSED) return;
    }
    if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) return this.array(v);
      if (v instanceof Date) return this.fail('unsupported_payload', 'the payload is a date, not a reading');
      return this.object(v, null, 1);
    }
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return this.bare(v);
    if (v === null) return this.fail('empty', 'the payload is null');
    return this.fail('unsupported_payload', `a ${typeof v} payload cannot be a reading`);
  }

  private parseText(s: string): unknown {
    let i = 0;
    while (i < s.length && s.charCodeAt(i) <= 32) i++;
    if (i === s.length) {
      this.fail('empty', 'the payload is empty text');
      return NOT_PARSED;
    }
    const c = s.charCodeAt(i);
    if (c === 123 || c === 91 || c === 34) {
      try {
        return JSON.parse(s);
      } catch (e: any) {
        this.fail('malformed_json', `the payload is not valid JSON: ${String(e && e.message).slice(0, 160)}`);
        return NOT_PARSED;
      }
    }
    return i === 0 && s.charCodeAt(s.length - 1) > 32 ? s : s.trim();
  }

  private array(a: unknown[]): void {
    for (let i = 0; i < a.length; i++) {
      this.index = i;
      const item = a[i];
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) this.object(item, null, 1);
      else this.fail('bad_item', `array item ${i} is ${describe(item)}, not a reading object`);
    }
    this.index = -1;
  }

  /** A bare number, boolean or text: the sensorId (and maybe measurement) come from the topic or the config. */
  private bare(v: number | boolean | string): void {
    const c = this.config;
    if (v === 'null') return this.fail('empty', 'the payload is null');
    if (c.values !== null) {
      // Only a value path of "payload" itself can read a bare value.
      const spec = c.values.find((s) => s.path.length === 0);
      if (!spec) return this.fail('no_value', 'the payload is a bare value but the value paths point into an object');
      return this.emit(this.idFor(undefined), spec.measurement ?? this.topic().measurement, v, spec.unit ?? this.topic().unit, undefined, undefined, null, spec.numeric);
    }
    let value: unknown = v;
    if (typeof v === 'string') {
      // Auto-detected text must look like a value: a number ("21.5", "21.5 degC"), true/false, NaN/Infinity (rejected later).
      if (v === 'true' || v === 'false') value = v === 'true';
      else if (!looksNumeric(v)) return this.fail('unsupported_payload', `the payload ${describe(v)} is neither JSON nor a number`);
    }
    const t = this.topic();
    this.emit(this.idFor(undefined), t.measurement, value, t.unit, undefined, undefined, null, t.measurement !== undefined && measurementDef(t.measurement) !== undefined);
  }

  /** The sensorId by the configured source; `fromPayload` is what auto-detection found in the payload. */
  private idFor(fromPayload: unknown, obj?: unknown): unknown {
    switch (this.config.sensorIdFrom) {
      case 'fixed': return this.config.sensorIdValue;
      case 'topic': return this.topic().sensorId;
      case 'path': return obj === undefined ? undefined : getPath(obj, this.config.sensorIdPath as never);
      default: return fromPayload !== undefined ? fromPayload : this.topic().sensorId;
    }
  }

  private object(obj: any, parent: Ctx | null, depth: number): void {
    const c = this.config;
    if (c.values !== null) return this.byPaths(obj, parent);
    // Scratch arrays are overwritten up to n, never truncated (setting .length is a slow runtime call).
    const keys = this.scratchKeys[depth];
    const classes = this.scratchClass[depth];
    let n = 0;
    let id: unknown, value: unknown, ts: unknown, unit: unknown, qual: unknown, meas: unknown, name: unknown;
    let plantId: unknown, lineId: unknown, assetId: unknown, tags: unknown, status: unknown, backfill: unknown;
    let hasValue = false, containers = 0;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      const kc = classify(k);
      switch (kc.role) {
        case R_ID: if (id === undefined) id = obj[k]; break;
        case R_VALUE: if (!hasValue) { value = obj[k]; hasValue = true; } break;
        case R_TS: if (ts === undefined) ts = obj[k]; break;
        case R_UNIT: unit = obj[k]; break;
        case R_QUALITY: qual = obj[k]; break;
        case R_MEAS: if (typeof obj[k] === 'string') meas = obj[k]; break;
        case R_NAME: name = obj[k]; break;
        case R_PLANT: plantId = obj[k]; break;
        case R_LINE: lineId = obj[k]; break;
        case R_ASSET: assetId = obj[k]; break;
        case R_TAGS: tags = obj[k]; break;
        case R_STATUS: status = obj[k]; break;
        case R_BACKFILL: backfill = obj[k]; break;
        case R_META: break;
        case R_FORBIDDEN:
          this.fail('forbidden_key', `the payload has a "${k}" key, which is never read`);
          break;
        case R_CONTAINER: {
          const cv = obj[k];
          if (cv !== null && typeof cv === 'object') {
            containers++;
            keys[n] = k;
            classes[n++] = kc;
          }
          break;
        }
        default: {
          keys[n] = k;
          classes[n++] = kc;
        }
      }
    }
    // "name" is the sensorId unless it names a measurement (metrics lists: { name: "temperature", value }).
    if (name !== undefined && typeof name === 'string') {
      const nm = classify(name);
      if (meas === undefined && nm.role === R_CANDIDATE && nm.meaning!.numeric) meas = name;
      else if (id === undefined) id = name;
    }
    const ctx: Ctx | null = parent === null && plantId === undefined && lineId === undefined && assetId === undefined && tags === undefined && status === undefined && backfill === undefined
      ? null
      : {
        sensorId: id ?? parent?.sensorId, ts: ts ?? parent?.ts, unit: unit ?? parent?.unit, quality: qual ?? parent?.quality,
        plantId: plantId ?? parent?.plantId, lineId: lineId ?? parent?.lineId, assetId: assetId ?? parent?.assetId,
        tags: tags ?? parent?.tags, statusCode: status ?? parent?.statusCode, backfill: backfill ?? parent?.backfill,
      };
    if (parent !== null) {
      if (id === undefined) id = parent.sensorId;
      if (ts === undefined) ts = parent.ts;
      if (qual === undefined) qual = parent.quality;
    }
    if (qual === undefined && status !== undefined) qual = status;
    const sensorId = this.idFor(id, obj);

    if (hasValue) {
      let m: string | undefined;
      let numeric = false;
      let u = unit;
      if (typeof meas === 'string') {
        const km = parseMeasurementKey(meas);
        m = km.measurement;
        numeric = km.numeric;
        if (u === undefined && km.unit) u = km.unit;
      } else {
        const t = this.topic();
        m = t.measurement;
        if (u === undefined) u = t.unit;
        numeric = m !== undefined && measurementDef(m) !== undefined;
      }
      if (u === undefined && parent !== null) u = parent.unit;
      this.emit(sensorId, m, value, u, ts, qual, ctx, numeric);
      return;
    }
    if (n === 0) {
      this.fail('no_readings', 'no value or measurement found in the payload', idText(sensorId));
      return;
    }
    let emitted = 0;
    for (let i = 0; i < n; i++) {
      const kc = classes[i];
      const k = keys[i];
      const v = obj[k];
      if (kc.role === R_CONTAINER) {
        if (depth >= MAX_ITEM_DEPTH) {
          this.fail('too_deep', `"${k}" is nested deeper than ${MAX_ITEM_DEPTH} levels of readings`, idText(sensorId));
          continue;
        }
        const inherit: Ctx = ctx ?? { sensorId: id, ts, unit, quality: qual, plantId, lineId, assetId, tags, statusCode: status, backfill };
        if (Array.isArray(v)) {
          for (let j = 0; j < v.length; j++) {
            const item = v[j];
            if (item !== null && typeof item === 'object' && !Array.isArray(item)) this.object(item, inherit, depth + 1);
            else this.fail('bad_item', `"${k}" item ${j} is ${describe(item)}, not a reading object`, idText(sensorId));
          }
        } else {
          this.object(v, inherit, depth + 1);
        }
        emitted++;
        continue;
      }
      const meaning = kc.meaning as KeyMeaning;
      if (typeof v === 'number' || typeof v === 'boolean') {
        this.emit(sensorId, meaning.measurement, v, meaning.unit ?? unit, ts, qual, ctx, meaning.numeric);
        emitted++;
      } else if (meaning.numeric) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, 'value')) {
          this.nested(v, sensorId, meaning, unit, ts, qual, ctx);
        } else {
          // A named analog measurement is always a reading, so a string or null here is an error, not metadata.
          this.emit(sensorId, meaning.measurement, v, meaning.unit ?? unit, ts, qual, ctx, true);
        }
        emitted++;
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, 'value')) {
        this.nested(v, sensorId, meaning, unit, ts, qual, ctx);
        emitted++;
      }
    }
    if (emitted === 0 && containers === 0) this.fail('no_readings', 'no value or measurement found in the payload', idText(sensorId));
  }

  /** { "temperature": { "value": 21, "unit": "degC", "ts": … } } */
  private nested(v: any, sensorId: unknown, meaning: KeyMeaning, unit: unknown, ts: unknown, qual: unknown, ctx: Ctx | null): void {
    const own = (k: string) => (Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined);
    const u = own('unit') ?? meaning.unit ?? unit;
    this.emit(sensorId, meaning.measurement, v.value, u, own('ts') ?? own('timestamp') ?? ts, own('quality') ?? qual, ctx, meaning.numeric);
  }

  /** Configured value paths: one reading per path. */
  private byPaths(obj: any, parent: Ctx | null): void {
    const c = this.config;
    let autoId: unknown;
    if (c.sensorIdFrom === 'auto') {
      for (const k in obj) {
        if (Object.prototype.hasOwnProperty.call(obj, k) && classify(k).role === R_ID) {
          autoId = obj[k];
          break;
        }
      }
      if (autoId === undefined && parent) autoId = parent.sensorId;
    }
    const sensorId = this.idFor(autoId, obj);
    const ts = c.tsPath !== null ? getPath(obj, c.tsPath) : autoField(obj, R_TS);
    const unit = c.unitPath !== null ? getPath(obj, c.unitPath) : undefined;
    const qual = c.qualityPath !== null ? getPath(obj, c.qualityPath) : autoField(obj, R_QUALITY);
    const specs = c.values as NonNullable<CompiledConfig['values']>;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i];
      const v = getPath(obj, s.path);
      this.emit(sensorId, s.measurement ?? this.topic().measurement, v, s.unit ?? unit ?? this.topic().unit, ts, qual, parent, s.numeric);
    }
  }
}
