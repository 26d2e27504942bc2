// OPC-UA status codes and values turned into the parts of a reading.
import type { Quality, Reading } from '../types';
import type { ItemState } from './item-group';

/** Severity bits 31..30 of an OPC-UA StatusCode: 00 good, 01 uncertain, 10/11 bad. */
export function qualityOf(statusCodeValue: number): Quality {
  const severity = (statusCodeValue >>> 30) & 0x3;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

function dateMs(d: unknown): number | undefined {
  if (d instanceof Date) {
    const t = d.getTime();
    // node-opcua uses 1601-01-01 (minimum DateTime) for "no timestamp"
    if (Number.isFinite(t) && t > 0) return t;
  }
  return undefined;
}

/** Source timestamp, then server timestamp, then arrival time. */
export function timestampOf(dv: { sourceTimestamp?: Date | null; serverTimestamp?: Date | null }, arrival: number): number {
  return dateMs(dv.sourceTimestamp) ?? dateMs(dv.serverTimestamp) ?? arrival;
}

/** Plain JSON-friendly value from an OPC-UA variant value. */
export function plainValue(v: unknown): any {
  if (v === null || v === undefined) return null;
  const t = typeof v;
  if (t === 'number' || t === 'boolean' || t === 'string') return v;
  if (t === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plainValue);
  const o = v as any;
  if (o.text !== undefined && o.locale !== undefined) return o.text; // LocalizedText
  if (o.name !== undefined && o.namespaceIndex !== undefined) return String(o.name); // QualifiedName
  if (typeof o.toString === 'function' && o.constructor && o.constructor.name === 'NodeId') return o.toString();
  if (typeof o.toJSON === 'function') return o.toJSON();
  return String(v);
}

/** The reading for one DataValue of an item (live or from history). */
export function readingOf(it: ItemState, dv: { value?: { value?: unknown } | null; statusCode?: { value: number; name?: string } | null; sourceTimestamp?: Date | null; serverTimestamp?: Date | null }, arrival: number): Reading {
  const r: any = {
    sensorId: it.sensorId, value: plainValue(dv.value?.value), ts: timestampOf(dv, arrival), quality: qualityOf(dv.statusCode?.value ?? 0),
    statusCode: dv.statusCode?.name ?? 'Good', nodeId: it.parsed!.text,
  };
  if (it.unit) r.unit = it.unit;
  return r;
}
