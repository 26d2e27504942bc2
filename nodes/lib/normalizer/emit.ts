// The per-item emit path: one candidate value (with its sensorId, unit, time and quality as found)
// becomes one canonical reading, or one invalid entry saying why not.

import type { Quality, Reading } from '../types';
import { FORBIDDEN_KEYS } from './paths';
import { parseTimestamp } from './timestamps';
import { Ctx, describe, idText, quality, worse } from './fields';
import { Enrichment, enrichReading } from './enrich';
import { NOT_PARSED } from './invalid';
import { ValueRules } from './values';

export class Emitter extends ValueRules {
  // State of the normalize() call in progress (single-threaded, so plain fields are safe and cheap).
  protected out: Reading[] = [];
  protected arrival = 0;
  protected enrich: Enrichment | null = null;
  /** readings dropped because the message already gave maxReadings */
  protected overflow = 0;

  /** Validates, scales, converts and checks one value, then appends the reading. */
  protected emit(rawId: unknown, m: string | undefined, rawValue: unknown, rawUnit: unknown, rawTs: unknown, rawQuality: unknown, ctx: Ctx | null, numeric: boolean): void {
    const c = this.config;
    const sensorId = idText(rawId);
    if (sensorId === undefined) {
      if (rawId === undefined || rawId === '') this.fail('no_sensor_id', 'no sensorId in the payload or topic', undefined, m);
      else this.fail('bad_sensor_id', `the sensorId ${describe(rawId)} is not usable`, undefined, m);
      return;
    }
    if (m !== undefined && FORBIDDEN_KEYS.has(m)) return this.fail('forbidden_key', `"${m}" is not allowed as a measurement`, sensorId);
    // A unit means an analog signal: booleans and text are not values for it.
    if (!numeric && typeof rawUnit === 'string' && rawUnit !== '') numeric = true;
    const rule = c.rules.length > 0 ? this.resolveRule(sensorId, m) : null;
    if (rule !== null && (rule.scaled || rule.to !== undefined || rule.limited)) numeric = true;
    const cv = this.coerce(rawValue, numeric, sensorId, m);
    if (cv === NOT_PARSED) return;
    let value = cv;
    let unit = this.textUnit ?? this.unitOf(rawUnit);
    let q: Quality = rawQuality === undefined ? 'good' : quality(rawQuality);
    if (typeof value === 'number') {
      const checked = this.checkNumber(value, unit, m, q, rule, sensorId);
      if (checked === NOT_PARSED) return;
      value = checked;
      unit = this.numUnit;
      m = this.numMeasurement;
      q = this.numQuality;
    }
    let ts: number;
    if (rawTs === undefined || rawTs === null || c.tsFormat === 'arrival') ts = this.arrival;
    else {
      ts = parseTimestamp(rawTs, c.tsFormat);
      if (ts !== ts) return this.fail('bad_timestamp', `the timestamp ${describe(rawTs)} is not a ${c.tsFormat === 'auto' ? 'known timestamp format' : `${c.tsFormat} timestamp`}`, sensorId, m);
      if (c.skew !== 'off' && (ts > this.arrival + c.maxFutureMs || (c.maxPastMs > 0 && ts < this.arrival - c.maxPastMs))) {
        if (c.skew === 'invalid') return this.fail('clock_skew', `the timestamp ${new Date(ts).toISOString()} is too far from the arrival time ${new Date(this.arrival).toISOString()}`, sensorId, m);
        ts = this.arrival;
        q = worse(q, 'uncertain');
      }
    }
    if (this.out.length >= c.maxReadings) {
      this.overflow++;
      return;
    }
    const r: Reading = { sensorId, value, ts, quality: q };
    if (unit !== undefined) r.unit = unit;
    if (m !== undefined) r.measurement = m;
    enrichReading(r, ctx, this.enrich);
    this.out.push(r);
  }
}
