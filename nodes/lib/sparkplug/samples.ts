// Readings and alarm events (DESIGN.md "Messages") → Sparkplug device metrics.
import type { Quality } from '../types';
import type { Sample } from './edge-node';
import { safeId } from './topics';

export interface SampleOptions {
  /** reading field naming the device (default lineId) */
  deviceField: string;
  /** device of readings without that field */
  defaultDevice: string;
  /** device that carries alarm events */
  alarmDevice: string;
}

const QUALITIES = new Set(['good', 'uncertain', 'bad']);

function isAlarm(p: Record<string, unknown>): boolean {
  return typeof p.kind === 'string' && typeof p.state === 'string' && typeof p.message === 'string';
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** One reading or alarm event → a sample, or the reason it cannot be one. */
export function toSample(p: unknown, o: SampleOptions): Sample | string {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'not a reading or alarm event (an object is expected)';
  const r = p as Record<string, unknown>;
  if (typeof r.sensorId !== 'string' || r.sensorId === '') return 'no sensorId';
  const ts = typeof r.ts === 'number' && Number.isFinite(r.ts) ? r.ts : NaN;
  if (Number.isNaN(ts)) return `${r.sensorId}: ts is not epoch milliseconds`;
  if (isAlarm(r)) {
    // one metric per sensor and alarm kind whose value is the alarm's state (active, cleared, …)
    return { device: safeId(o.alarmDevice), metric: `${r.sensorId}/${r.kind}`, value: String(r.state), ts, quality: 'good' };
  }
  const v = r.value;
  if (v !== null && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') return `${r.sensorId}: value must be a number, boolean or string`;
  const quality: Quality = typeof r.quality === 'string' && QUALITIES.has(r.quality) ? (r.quality as Quality) : 'good';
  const device = safeId(text(r[o.deviceField]) ?? text((r.tags as Record<string, unknown> | undefined)?.[o.deviceField]) ?? o.defaultDevice);
  const measurement = typeof r.measurement === 'string' && r.measurement !== '' ? `/${r.measurement}` : '';
  const s: Sample = { device, metric: `${r.sensorId}${measurement}`, value: v, ts, quality };
  if (typeof r.unit === 'string' && r.unit !== '') s.unit = r.unit;
  return s;
}

/** msg.payload (one item or a batch array) → samples; the first problem found makes the whole message invalid. */
export function toSamples(payload: unknown, o: SampleOptions): { samples: Sample[]; error?: string } {
  const items = Array.isArray(payload) ? payload : [payload];
  const samples: Sample[] = [];
  for (let i = 0; i < items.length; i++) {
    const s = toSample(items[i], o);
    if (typeof s === 'string') return { samples: [], error: Array.isArray(payload) ? `item ${i}: ${s}` : s };
    samples.push(s);
  }
  if (samples.length === 0) return { samples, error: 'empty batch' };
  return { samples };
}
