// Protobuf wire format for the field tables of ./schema, on `pbf` (a small maintained protobuf reader/writer).
// Writes the fields that are set, in field-number order, as protobufjs and the Eclipse Tahu libraries do; reads
// every field it knows, skips the others, and throws on anything that is not a well-formed message of the schema
// (wrong wire type, a length past its end, nesting deeper than any Sparkplug payload needs).
import { PbfReader, PbfWriter } from 'pbf';
import { Bits, Field, Kind, MESSAGES, MessageName } from './schema';

export type Wire = Record<string, unknown>;

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;
const MAX_DEPTH = 32;

const SCALARS = new Set<Kind>(['varint', 'bits', 'bool', 'float', 'double', 'string', 'bytes']);
const isMessage = (kind: Kind): kind is MessageName => !SCALARS.has(kind);

function wireType(kind: Kind): number {
  switch (kind) {
    case 'varint': case 'bits': case 'bool': return VARINT;
    case 'float': return FIXED32;
    case 'double': return FIXED64;
    default: return BYTES;
  }
}

const SORTED = new Map<MessageName, Field[]>();
const BY_NUMBER = new Map<MessageName, Map<number, Field>>();
for (const [name, fields] of Object.entries(MESSAGES) as [MessageName, Field[]][]) {
  SORTED.set(name, [...fields].sort((a, b) => a.n - b.n));
  BY_NUMBER.set(name, new Map(fields.map((x) => [x.n, x])));
}

// ---- write ----

function integer(v: unknown, where: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${where}: ${String(v)} is not a number`);
  return Math.trunc(n);
}

function writeOne(w: PbfWriter, field: Field, v: unknown, where: string): void {
  const at = `${where}.${field.name}`;
  switch (field.kind) {
    case 'varint': case 'bits': w.writeVarintField(field.n, integer(v, at)); break;
    case 'bool': w.writeBooleanField(field.n, v === true); break;
    case 'float': w.writeFloatField(field.n, Number(v)); break;
    case 'double': w.writeDoubleField(field.n, Number(v)); break;
    case 'string': w.writeStringField(field.n, String(v)); break;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new Error(`${at}: bytes expected (a Buffer or Uint8Array)`);
      w.writeBytesField(field.n, v);
      break;
    default: {
      const kind = field.kind;
      w.writeMessage(field.n, (o: Wire, into: PbfWriter) => writeFields(kind, o, into, at), v as Wire);
    }
  }
}

function writeFields(type: MessageName, obj: Wire, w: PbfWriter, where: string): void {
  for (const field of SORTED.get(type) ?? []) {
    const v = obj[field.name];
    if (v === null || v === undefined) continue;
    if (field.repeated) for (const item of v as unknown[]) writeOne(w, field, item, where);
    else writeOne(w, field, v, where);
  }
}

/** Encodes a wire object (field names of the schema) as a message of the given type. */
export function writeMessage(type: MessageName, obj: Wire): Uint8Array {
  const w = new PbfWriter();
  writeFields(type, obj, w, type);
  return w.finish();
}

// ---- read ----

class BitsRead implements Bits {
  constructor(readonly unsigned: number, readonly signed: number) {}
}

function readBits(r: PbfReader): Bits {
  const at = r.pos;
  const unsigned = r.readVarint();
  // below 2^63 both readings are the same number: read the bits a second time only for the top half
  if (unsigned < 2 ** 63) return new BitsRead(unsigned, unsigned);
  r.pos = at;
  return new BitsRead(unsigned, r.readVarint(true));
}

function readScalar(r: PbfReader, kind: Kind): unknown {
  switch (kind) {
    case 'varint': return r.readVarint();
    case 'bits': return readBits(r);
    case 'bool': return r.readBoolean();
    case 'float': return r.readFloat();
    case 'double': return r.readDouble();
    case 'string': return r.readString();
    default: return Uint8Array.prototype.slice.call(r.readBytes());
  }
}

/** Reads a length prefix; the end of the value it announces, which must lie within the enclosing message. */
function lengthEnd(r: PbfReader, end: number, what: string): number {
  const stop = r.readVarint() + r.pos;
  if (stop > end) throw new Error(`${what} runs past the end of its message`);
  return stop;
}

function readFields(r: PbfReader, type: MessageName, end: number, depth: number): Wire {
  if (depth > MAX_DEPTH) throw new Error(`${type} nested deeper than ${MAX_DEPTH} levels`);
  const fields = BY_NUMBER.get(type) as Map<number, Field>;
  const out: Wire = {};
  while (r.pos < end) {
    const tag = r.readVarint();
    const n = Math.floor(tag / 8);
    const wt = tag % 8;
    if (n === 0) throw new Error(`${type}: field number 0`);
    const field = fields.get(n);
    if (!field) r.skip(wt);
    else if (field.repeated && wt === BYTES && wireType(field.kind) !== BYTES) {
      // a packed repeated number field
      const stop = lengthEnd(r, end, `${type}.${field.name}`);
      const list = (out[field.name] ??= []) as unknown[];
      while (r.pos < stop) list.push(readScalar(r, field.kind));
      if (r.pos !== stop) throw new Error(`${type}.${field.name}: a packed list that does not end where its length says`);
    } else {
      if (wt !== wireType(field.kind)) throw new Error(`${type}.${field.name} has wire type ${wt}, expected ${wireType(field.kind)}`);
      const v = isMessage(field.kind) ? readFields(r, field.kind, lengthEnd(r, end, `${type}.${field.name}`), depth + 1) : readScalar(r, field.kind);
      if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(v);
      else out[field.name] = v;
    }
    if (r.pos > end) throw new Error(`${type}${field ? `.${field.name}` : ` field ${n}`} runs past the end of its message`);
  }
  return out;
}

/** an int_value / long_value field as read, or undefined for anything else */
export const bitsOf = (v: unknown): Bits | undefined => (v instanceof BitsRead ? v : undefined);

/** Decodes bytes as a message of the given type; throws an Error on bytes that are not one. */
export function readMessage(type: MessageName, bytes: Uint8Array): Wire {
  const r = new PbfReader(bytes);
  return readFields(r, type, bytes.length, 0);
}

/** A decoded wire object as plain data (value fields as unsigned numbers), for values we hand over undecoded. */
export function plain(v: unknown): unknown {
  if (v instanceof BitsRead) return v.unsigned;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Uint8Array || typeof v !== 'object' || v === null) return v;
  const out: Wire = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out;
}
