// Sparkplug B payloads: our own mapping between metric objects ({ name, alias, type: 'Double', value, ... }) and the
// protobuf wire format (schema in ./schema, wire format in ./wire). Integers are plain numbers, exact up to 2^53
// (beyond that, the nearest double). The decoded shape is the one the Eclipse Tahu JavaScript library
// (`sparkplug-payload`) gives, so both read each other's bytes the same way (test/lib/sparkplug-codec.test.ts).
import type { Quality } from '../types';
import { DATATYPE, TypeStr } from './schema';
import { bitsOf, plain, readMessage, Wire, writeMessage } from './wire';

export type { TypeStr };

export type UPropertySet = Record<string, UPropertyValue>;
export interface UPropertyValue {
  type: TypeStr;
  value: null | number | boolean | string | UPropertySet | UPropertySet[];
}
export interface UMetaData {
  isMultiPart?: boolean; contentType?: string; size?: number; seq?: number;
  fileName?: string; fileType?: string; md5?: string; description?: string;
}
export interface UMetric {
  name?: string | null;
  alias?: number | null;
  timestamp?: number | null;
  type: TypeStr;
  /** DataSet and Template values are decoded as plain objects of their protobuf fields and cannot be encoded here */
  value: null | number | boolean | string | Uint8Array | object;
  isHistorical?: boolean | null;
  isTransient?: boolean | null;
  /** on encode: send no value (also implied by value null); decoded payloads carry value null instead */
  isNull?: boolean | null;
  metadata?: UMetaData | null;
  properties?: UPropertySet | null;
}
export interface UPayload {
  timestamp?: number | null;
  metrics?: UMetric[] | null;
  seq?: number | null;
  uuid?: string | null;
  body?: Uint8Array | null;
}


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

/** what a value of the field must be in JavaScript, for an error that says what to fix */
function expectedJs(field: string | undefined, value: unknown): string | undefined {
  switch (field) {
    case 'intValue': case 'longValue': return typeof value === 'number' || typeof value === 'bigint' ? undefined : 'an integer number';
    case 'floatValue': case 'doubleValue': return typeof value === 'number' ? undefined : 'a number';
    case 'booleanValue': return typeof value === 'boolean' ? undefined : 'true or false';
    case 'stringValue': return typeof value === 'string' ? undefined : 'a string';
    case 'bytesValue': return value instanceof Uint8Array ? undefined : 'a Buffer';
    case 'propertysetValue': return typeof value === 'object' && !Array.isArray(value) ? undefined : 'an object of properties';
    case 'propertysetsValue': return Array.isArray(value) ? undefined : 'an array of property sets';
    default: return undefined;
  }
}

function putValue(type: number, value: unknown, into: Wire, where: string): void {
  if (value === null || value === undefined) return;
  const field = valueField(type);
  if (type === DATATYPE.DataSet || type === DATATYPE.Template) throw new Error(`${where}: DataSet and Template values are not supported`);
  const wanted = expectedJs(field, value);
  if (wanted) throw new Error(`${where}: a ${TYPE_NAMES.get(type)} value must be ${wanted}, not ${JSON.stringify(value) ?? typeof value}`);
  // negative Int8..Int32 travel as their 32 bits in the unsigned int_value, as protobufjs and Tahu send them
  if (field === 'intValue' && (type === DATATYPE.Int8 || type === DATATYPE.Int16 || type === DATATYPE.Int32)) into[field] = typeof value === 'number' ? value >>> 0 : value;
  else if (field === 'propertysetValue') into[field] = propertySet(value as UPropertySet, where);
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
  const bytes = writeMessage('Payload', wire);
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
  const bits = bitsOf(v);
  if (bits) {
    // what the bits mean is the datatype's: 32 bits signed or not, 64 bits signed or not
    switch (type) {
      case DATATYPE.Int8: case DATATYPE.Int16: case DATATYPE.Int32: return bits.signed | 0;
      case DATATYPE.UInt8: case DATATYPE.UInt16: case DATATYPE.UInt32: return bits.signed >>> 0;
      case DATATYPE.Int64: return bits.signed;
      default: return bits.unsigned; // UInt64, DateTime
    }
  }
  switch (type) {
    case DATATYPE.PropertySet:
      return readPropertySet(v as Wire);
    case DATATYPE.PropertySetList:
      return ((v as Wire).propertyset as Wire[] ?? []).map(readPropertySet);
    default:
      // DataSet and Template values (and a value in a field its datatype does not name) as plain data
      return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? plain(v) : v;
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
    // defined, not assigned: a key such as "__proto__" from another sender stays a key
    Object.defineProperty(out, key, { value: { type: TYPE_NAMES.get(type) as TypeStr, value: pv.isNull === true ? null : takeValue(type, pv) as UPropertyValue['value'] }, enumerable: true, writable: true, configurable: true });
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
  if (has(wire, 'timestamp')) m.timestamp = wire.timestamp as number;
  if (has(wire, 'alias')) m.alias = wire.alias as number;
  if (has(wire, 'isHistorical')) m.isHistorical = wire.isHistorical as boolean;
  if (has(wire, 'isTransient')) m.isTransient = wire.isTransient as boolean;
  if (has(wire, 'metadata') && wire.metadata) m.metadata = readMetaData(wire.metadata as Wire);
  if (has(wire, 'properties') && wire.properties) m.properties = readPropertySet(wire.properties as Wire);
  return m;
}

/** Throws on bytes that are not a Sparkplug B payload. */
export function decode(bytes: Uint8Array): UPayload {
  const wire = readMessage('Payload', bytes);
  const p: UPayload = {};
  if (has(wire, 'timestamp')) p.timestamp = wire.timestamp as number;
  p.metrics = ((wire.metrics as Wire[] | undefined) ?? []).map(readMetric);
  if (has(wire, 'seq')) p.seq = wire.seq as number;
  if (has(wire, 'uuid')) p.uuid = wire.uuid as string;
  if (has(wire, 'body')) p.body = wire.body as Uint8Array;
  return p;
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
