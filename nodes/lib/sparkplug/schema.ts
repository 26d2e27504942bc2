// The Sparkplug B payload schema (Sparkplug 3.0 specification, chapter "Payloads") as field tables for ./wire:
// message and field names are ours (camelCase as our code reads them); what must match the specification is the
// wire: field numbers, field types and the numbers of the datatypes.

/** Sparkplug datatype names and their numbers on the wire (Metric.datatype, PropertyValue.type, ...). */
export const DATATYPE = {
  Unknown: 0,
  Int8: 1, Int16: 2, Int32: 3, Int64: 4,
  UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14, UUID: 15,
  DataSet: 16, Bytes: 17, File: 18, Template: 19, PropertySet: 20, PropertySetList: 21,
} as const;

export type TypeStr = Exclude<keyof typeof DATATYPE, 'Unknown'>;

/**
 * How a field travels. `varint`: uint32/uint64 read as an unsigned number. `bits`: the uint32/uint64 value fields
 * (int_value, long_value), whose meaning (signed or not, 32 or 64 bits) the datatype gives: read as {@link Bits}.
 * Any other string names a message of this schema.
 */
export type Kind = 'varint' | 'bits' | 'bool' | 'float' | 'double' | 'string' | 'bytes' | MessageName;

export interface Field { n: number; name: string; kind: Kind; repeated?: true }

export type MessageName =
  | 'Payload' | 'Metric' | 'MetaData' | 'PropertyValue' | 'PropertySet' | 'PropertySetList'
  | 'DataSet' | 'DataSetValue' | 'Row' | 'Template' | 'Parameter' | 'Extension';

/** the scalar value alternatives shared by metrics, properties, template parameters and dataset cells */
function scalarValues(first: number): Field[] {
  const kinds: [string, Kind][] = [['intValue', 'bits'], ['longValue', 'bits'], ['floatValue', 'float'], ['doubleValue', 'double'], ['booleanValue', 'bool'], ['stringValue', 'string']];
  return kinds.map(([name, kind], i) => ({ n: first + i, name, kind }));
}

const f = (n: number, name: string, kind: Kind, repeated?: true): Field => (repeated ? { n, name, kind, repeated } : { n, name, kind });

export const MESSAGES: Record<MessageName, Field[]> = {
  Payload: [f(1, 'timestamp', 'varint'), f(2, 'metrics', 'Metric', true), f(3, 'seq', 'varint'), f(4, 'uuid', 'string'), f(5, 'body', 'bytes')],
  Metric: [
    f(1, 'name', 'string'), f(2, 'alias', 'varint'), f(3, 'timestamp', 'varint'), f(4, 'datatype', 'varint'),
    f(5, 'isHistorical', 'bool'), f(6, 'isTransient', 'bool'), f(7, 'isNull', 'bool'), f(8, 'metadata', 'MetaData'),
    f(9, 'properties', 'PropertySet'), ...scalarValues(10), f(16, 'bytesValue', 'bytes'), f(17, 'datasetValue', 'DataSet'),
    f(18, 'templateValue', 'Template'), f(19, 'extensionValue', 'Extension'),
  ],
  MetaData: [
    f(1, 'isMultiPart', 'bool'), f(2, 'contentType', 'string'), f(3, 'size', 'varint'), f(4, 'seq', 'varint'),
    f(5, 'fileName', 'string'), f(6, 'fileType', 'string'), f(7, 'md5', 'string'), f(8, 'description', 'string'),
  ],
  PropertyValue: [
    f(1, 'type', 'varint'), f(2, 'isNull', 'bool'), ...scalarValues(3),
    f(9, 'propertysetValue', 'PropertySet'), f(10, 'propertysetsValue', 'PropertySetList'), f(11, 'extensionValue', 'Extension'),
  ],
  PropertySet: [f(1, 'keys', 'string', true), f(2, 'values', 'PropertyValue', true)],
  PropertySetList: [f(1, 'propertyset', 'PropertySet', true)],
  DataSet: [f(1, 'numOfColumns', 'varint'), f(2, 'columns', 'string', true), f(3, 'types', 'varint', true), f(4, 'rows', 'Row', true)],
  DataSetValue: [...scalarValues(1), f(7, 'extensionValue', 'Extension')],
  Row: [f(1, 'elements', 'DataSetValue', true)],
  Template: [
    f(1, 'version', 'string'), f(2, 'metrics', 'Metric', true), f(3, 'parameters', 'Parameter', true),
    f(4, 'templateRef', 'string'), f(5, 'isDefinition', 'bool'),
  ],
  Parameter: [f(1, 'name', 'string'), f(2, 'type', 'varint'), ...scalarValues(3), f(9, 'extensionValue', 'Extension')],
  // the extension values the specification leaves to implementations: we keep none of their fields
  Extension: [],
};

/** an int_value / long_value as read: the unsigned and the two's-complement signed reading of the same bits */
export interface Bits { unsigned: number; signed: number }
