// Sparkplug B payloads: our own mapping between metric objects ({ name, alias, type: 'Double', value, ... }) and the
// protobuf wire format, on protobufjs (schema in ./schema). The decoded shape is the one the Eclipse Tahu JavaScript
// library (`sparkplug-payload`) gives, so both read each other's bytes the same way (test/lib/sparkplug-codec.test.ts).
import type { Quality } from '../types';
import { DATATYPE, PayloadType, TypeStr } from './schema';

export type { TypeStr };

/** protobufjs hands 64-bit integers over as Long objects (from the `long` package); `num()` makes numbers of them. */
export interface LongLike { low: number; high: number; unsigned: boolean; toNumber(): number; toString(radix?: number): string }

export type UPropertySet = Record<string, UPropertyValue>;
export interface UPropertyValue {
  type: TypeStr;
  value: null | number | LongLike | boolean | string | UPropertySet | UPropertySet[];
}
export interface UMetaData {
  isMultiPart?: boolean; contentType?: string; size?: number | LongLike; seq?: number | LongLike;
  fileName?: string; fileType?: string; md5?: string; description?: string;
}
export interface UMetric {
  name?: string | null;
  alias?: number | LongLike | null;
  timestamp?: number | LongLike | null;
  type: TypeStr;
  /** DataSet and Template values are decoded as their raw protobuf objects and cannot be encoded here */
  value: null | number | LongLike | boolean | string | Uint8Array | object;
  isHistorical?: boolean | null;
  isTransient?: boolean | null;
  /** on encode: send no value (also implied by value null); decoded payloads carry value null instead */
  isNull?: boolean | null;
  metadata?: UMetaData | null;
  properties?: UPropertySet | null;
}
export interface UPayload {
  timestamp?: number | LongLike | null;
  metrics?: UMetric[] | null;
  seq?: number | LongLike | null;
  uuid?: string | null;
  body?: Uint8Array | null;
}

type Wire = Record<string, unknown>;

const TYPE_NAMES = new Map<number, TypeStr>();
const TYPE_NUMBERS = new Map<string, number>();
for (const [name, n] of Object.entries(DATATYPE)) {
  if (n === 0) continue;
  TYPE_NAMES.set(n, name as TypeStr);
  TYPE_NUMBERS.set(name.toLowerCase(), n);
}

function typeNumber(type: unknown, where: string): number {
  const n = typeof type === 'string' ? TYPE_NUMBERS.get(type.toLowerCase()) : undefined;
  if (n === undefined) throw new Error(`${where}: "${String(type)}" is not a Sparkplug datatype (Int8..UInt64, Float, Double, Boolean, String, DateTime, Text, UUID, Bytes, File, PropertySet, PropertySetList)`);
  return n;
}

const has = (o: object | null | undefined, k: string): boolean => o !== null && o !== undefined && Object.prototype.hasOwnProperty.call(o, k);
const set = (v: unknown): boolean => v !== null && v !== undefined;
const isLong = (v: unknown): v is LongLike => typeof v === 'object' && v !== null && typeof (v as LongLike).toNumber === 'function' && 'high' in v;

/** Which value field of Metric / PropertyValue carries a datatype (Sparkplug 3.0 "Datatype Details"). */
function valueField(type: number): string | undefined {
  switch (type) {
    case DATATYPE.Int8: case DATATYPE.Int16: case DATATYPE.Int32: case DATATYPE.UInt8: case DATATYPE.UInt16:
      return 'intValue';
    // UInt32 travels in long_value as the Eclipse Tahu libraries (Java, JavaScript) send it; decode reads int_value too
    case DATATYPE.UInt32: case DATATYPE.Int64: case DATATYPE.UInt64: case DATATYPE.DateTime:
      return 'longValue';
    case DATATYPE.Float: return 'floatValue';
    case DATATYPE.Double: return 'doubleValue';
    case DATATYPE.Boolean: return 'booleanValue';
    case DATATYPE.String: case DATATYPE.Text: case DATATYPE.UUID: return 'stringValue';
    case DATATYPE.Bytes: case DATATYPE.File: return 'bytesValue';
    case DATATYPE.DataSet: return 'datasetValue';
    case DATATYPE.Template: return 'templateValue';
    case DATATYPE.PropertySet: return 'propertysetValue';
    case DATATYPE.PropertySetList: return 'propertysetsValue';
    default: return undefined;
  }
}

// ---- encode ----

function putValue(type: number, value: unknown, into: Wire, where: string): void {
  if (value === null || value === undefined) return;
  const field = valueField(type);
  if (type === DATATYPE.DataSet || type === DATATYPE.Template) throw new Error(`${where}: DataSet and Template values are not supported`);
  if (field === 'propertysetValue') into[field] = propertySet(value as UPropertySet, where);
  else if (field === 'propertysetsValue') into[field] = { propertyset: (value as UPropertySet[]).map((s) => propertySet(s, where)) };
  else if (field) into[field] = value;
}

function propertySet(props: UPropertySet, where: string): Wire {
  const keys: string[] = [];
  const values: Wire[] = [];
  for (const [key, pv] of Object.entries(props)) {
    const type = typeNumber(pv?.type, `${where} property ${key}`);
    const wire: Wire = { type };
    if (pv.value === null) wire.isNull = true;
    putValue(type, pv.value, wire, `${where} property ${key}`);
    keys.push(key);
    values.push(wire);
  }
  return { keys, values };
}

function metricToWire(m: UMetric, index: number): Wire {
  const where = `metric ${m.name ?? (set(m.alias) ? `alias ${String(m.alias)}` : index)}`;
  const datatype = typeNumber(m.type, where);
  const wire: Wire = { datatype };
  if (set(m.name)) wire.name = m.name;
  if (set(m.alias)) wire.alias = m.alias;
  if (set(m.timestamp)) wire.timestamp = m.timestamp;
  if (set(m.isHistorical)) wire.isHistorical = m.isHistorical;
  if (set(m.isTransient)) wire.isTransient = m.isTransient;
  if (m.isNull || m.value === null) wire.isNull = true;
  else putValue(datatype, m.value, wire, where);
  if (set(m.metadata)) wire.metadata = m.metadata;
  if (set(m.properties)) wire.properties = propertySet(m.properties as UPropertySet, where);
  return wire;
}

export function encode(payload: UPayload): Buffer {
  const wire: Wire = {};
  if (set(payload.timestamp)) wire.timestamp = payload.timestamp;
  wire.metrics = (payload.metrics ?? []).map(metricToWire);
  if (set(payload.seq)) wire.seq = payload.seq;
  if (set(payload.uuid)) wire.uuid = payload.uuid;
  if (set(payload.body)) wire.body = payload.body;
  const bytes = PayloadType.encode(wire).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- decode ----

const VALUE_FIELDS = ['intValue', 'longValue', 'floatValue', 'doubleValue', 'booleanValue', 'stringValue', 'bytesValue', 'datasetValue', 'templateValue', 'propertysetValue', 'propertysetsValue'];

function takeValue(type: number, from: Wire): unknown {
  const expected = valueField(type);
  if (expected === undefined) return null;
  // another sender may put a datatype in a neighbouring field (UInt32 in int_value, as the specification's table has it)
  const field = has(from, expected) ? expected : VALUE_FIELDS.find((f) => has(from, f) && set(from[f]));
  if (field === undefined) return null;
  const v = from[field];
  switch (type) {
    case DATATYPE.Int8: case DATATYPE.Int16: case DATATYPE.Int32:
      return typeof v === 'number' ? v | 0 : num(v);
    case DATATYPE.UInt32:
      return typeof v === 'number' ? v >>> 0 : isLong(v) ? v.low >>> 0 : v;
    case DATATYPE.Int64:
      return isLong(v) && v.unsigned ? (v as unknown as { toSigned(): LongLike }).toSigned() : v;
    case DATATYPE.PropertySet:
      return readPropertySet(v as Wire);
    case DATATYPE.PropertySetList:
      return ((v as Wire).propertyset as Wire[] ?? []).map(readPropertySet);
    case DATATYPE.DataSet: case DATATYPE.Template:
      return PayloadType.lookupType(type === DATATYPE.DataSet ? 'DataSet' : 'Template').toObject(v as never, { longs: Number });
    default:
      return v;
  }
}

function readPropertySet(wire: Wire): UPropertySet {
  const keys = (wire.keys as string[] | undefined) ?? [];
  const values = (wire.values as Wire[] | undefined) ?? [];
  if (keys.length !== values.length) throw new Error(`a property set has ${keys.length} keys but ${values.length} values`);
  const out: UPropertySet = {};
  keys.forEach((key, i) => {
    const pv = values[i];
    const type = pv.type as number;
    out[key] = { type: TYPE_NAMES.get(type) as TypeStr, value: pv.isNull === true ? null : takeValue(type, pv) as UPropertyValue['value'] };
  });
  return out;
}

function readMetaData(wire: Wire): UMetaData {
  const out: Record<string, unknown> = {};
  for (const k of ['isMultiPart', 'contentType', 'size', 'seq', 'fileName', 'fileType', 'md5', 'description']) if (has(wire, k) && set(wire[k])) out[k] = wire[k];
  return out as UMetaData;
}

function readMetric(wire: Wire): UMetric {
  const datatype = wire.datatype as number;
  const m: UMetric = { value: wire.isNull === true ? null : takeValue(datatype, wire) as UMetric['value'], type: TYPE_NAMES.get(datatype) as TypeStr };
  if (has(wire, 'name')) m.name = wire.name as string;
  if (has(wire, 'timestamp')) m.timestamp = wire.timestamp as LongLike;
  if (has(wire, 'alias')) m.alias = wire.alias as LongLike;
  if (has(wire, 'isHistorical')) m.isHistorical = wire.isHistorical as boolean;
  if (has(wire, 'isTransient')) m.isTransient = wire.isTransient as boolean;
  if (has(wire, 'metadata') && wire.metadata) m.metadata = readMetaData(wire.metadata as Wire);
  if (has(wire, 'properties') && wire.properties) m.properties = readPropertySet(wire.properties as Wire);
  return m;
}

/** Throws on bytes that are not a Sparkplug B payload. */
export function decode(bytes: Uint8Array): UPayload {
  const wire = PayloadType.decode(bytes) as unknown as Wire;
  const p: UPayload = {};
  if (has(wire, 'timestamp')) p.timestamp = wire.timestamp as LongLike;
  p.metrics = ((wire.metrics as Wire[] | undefined) ?? []).map(readMetric);
  if (has(wire, 'seq')) p.seq = wire.seq as LongLike;
  if (has(wire, 'uuid')) p.uuid = wire.uuid as string;
  if (has(wire, 'body')) p.body = wire.body as Uint8Array;
  return p;
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
