// Sparkplug B payloads through the maintained `sparkplug-payload` library (Eclipse Tahu's protobuf schema).
import { get } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import type { Quality } from '../types';

export type { UMetric, UPayload };

const codec = get('spBv1.0');
if (!codec) throw new Error('sparkplug-payload has no spBv1.0 codec');
const spb = codec;

export function encode(payload: UPayload): Buffer {
  const bytes = spb.encodePayload(payload);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws on bytes that are not a Sparkplug B payload. */
export function decode(bytes: Uint8Array): UPayload {
  return spb.decodePayload(bytes);
}

/** protobuf 64-bit integers arrive as Long objects: plain numbers for us (exact up to 2^53). */
export function num(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return undefined;
}

/** OPC quality codes as Sparkplug hosts (Ignition) read the metric property "Quality". */
export const QUALITY_CODE: Record<Quality, number> = { good: 192, uncertain: 64, bad: 0 };

export function qualityOf(code: number | undefined): Quality {
  if (code === undefined) return 'good';
  if (code >= 192) return 'good';
  if (code >= 64) return 'uncertain';
  return 'bad';
}

export type Datatype = 'Double' | 'Boolean' | 'String' | 'Int64';

export function datatypeOf(value: unknown): Datatype {
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return 'Double';
  return 'String';
}
