// The Sparkplug B payload schema (Sparkplug 3.0 specification, chapter "Payloads"), written for protobufjs as a
// JSON descriptor: message and field names are ours (camelCase as our code reads them); what must match the
// specification is the wire: field numbers, field types and the enum numbers of the datatypes.
import * as protobuf from 'protobufjs';

/** Sparkplug datatype names and their numbers on the wire (Metric.datatype, PropertyValue.type, ...). */
export const DATATYPE = {
  Unknown: 0,
  Int8: 1, Int16: 2, Int32: 3, Int64: 4,
  UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14, UUID: 15,
  DataSet: 16, Bytes: 17, File: 18, Template: 19, PropertySet: 20, PropertySetList: 21,
} as const;

export type TypeStr = Exclude<keyof typeof DATATYPE, 'Unknown'>;

type FieldSpec = { id: number; type: string };

/** The scalar value alternatives shared by metrics, properties, template parameters and dataset cells. */
function scalarValues(first: number): Record<string, FieldSpec> {
  const names = ['intValue', 'longValue', 'floatValue', 'doubleValue', 'booleanValue', 'stringValue'];
  const types = ['uint32', 'uint64', 'float', 'double', 'bool', 'string'];
  const out: Record<string, FieldSpec> = {};
  names.forEach((n, i) => { out[n] = { id: first + i, type: types[i] }; });
  return out;
}

const oneofValue = (...names: string[]) => ({ value: { oneof: names } });
const SCALARS = ['intValue', 'longValue', 'floatValue', 'doubleValue', 'booleanValue', 'stringValue'];
/** a message that only carries extension fields the specification leaves to implementations (we keep none) */
const EXTENSION = { fields: {} };

const descriptor = {
  nested: {
    sparkplug: {
      nested: {
        Payload: {
          fields: {
            timestamp: { id: 1, type: 'uint64' },
            metrics: { id: 2, type: 'Metric', rule: 'repeated' },
            seq: { id: 3, type: 'uint64' },
            uuid: { id: 4, type: 'string' },
            body: { id: 5, type: 'bytes' },
          },
          nested: {
            Template: {
              fields: {
                version: { id: 1, type: 'string' },
                metrics: { id: 2, type: 'Metric', rule: 'repeated' },
                parameters: { id: 3, type: 'Parameter', rule: 'repeated' },
                templateRef: { id: 4, type: 'string' },
                isDefinition: { id: 5, type: 'bool' },
              },
              nested: {
                Parameter: {
                  oneofs: oneofValue(...SCALARS, 'extensionValue'),
                  fields: {
                    name: { id: 1, type: 'string' },
                    type: { id: 2, type: 'uint32' },
                    ...scalarValues(3),
                    extensionValue: { id: 9, type: 'ParameterValueExtension' },
                  },
                  nested: { ParameterValueExtension: EXTENSION },
                },
              },
            },
            DataSet: {
              fields: {
                numOfColumns: { id: 1, type: 'uint64' },
                columns: { id: 2, type: 'string', rule: 'repeated' },
                types: { id: 3, type: 'uint32', rule: 'repeated' },
                rows: { id: 4, type: 'Row', rule: 'repeated' },
              },
              nested: {
                DataSetValue: {
                  oneofs: oneofValue(...SCALARS, 'extensionValue'),
                  fields: { ...scalarValues(1), extensionValue: { id: 7, type: 'DataSetValueExtension' } },
                  nested: { DataSetValueExtension: EXTENSION },
                },
                Row: { fields: { elements: { id: 1, type: 'DataSetValue', rule: 'repeated' } } },
              },
            },
            PropertyValue: {
              oneofs: oneofValue(...SCALARS, 'propertysetValue', 'propertysetsValue', 'extensionValue'),
              fields: {
                type: { id: 1, type: 'uint32' },
                isNull: { id: 2, type: 'bool' },
                ...scalarValues(3),
                propertysetValue: { id: 9, type: 'PropertySet' },
                propertysetsValue: { id: 10, type: 'PropertySetList' },
                extensionValue: { id: 11, type: 'PropertyValueExtension' },
              },
              nested: { PropertyValueExtension: EXTENSION },
            },
            PropertySet: {
              fields: {
                keys: { id: 1, type: 'string', rule: 'repeated' },
                values: { id: 2, type: 'PropertyValue', rule: 'repeated' },
              },
            },
            PropertySetList: { fields: { propertyset: { id: 1, type: 'PropertySet', rule: 'repeated' } } },
            MetaData: {
              fields: {
                isMultiPart: { id: 1, type: 'bool' },
                contentType: { id: 2, type: 'string' },
                size: { id: 3, type: 'uint64' },
                seq: { id: 4, type: 'uint64' },
                fileName: { id: 5, type: 'string' },
                fileType: { id: 6, type: 'string' },
                md5: { id: 7, type: 'string' },
                description: { id: 8, type: 'string' },
              },
            },
            Metric: {
              oneofs: oneofValue(...SCALARS, 'bytesValue', 'datasetValue', 'templateValue', 'extensionValue'),
              fields: {
                name: { id: 1, type: 'string' },
                alias: { id: 2, type: 'uint64' },
                timestamp: { id: 3, type: 'uint64' },
                datatype: { id: 4, type: 'uint32' },
                isHistorical: { id: 5, type: 'bool' },
                isTransient: { id: 6, type: 'bool' },
                isNull: { id: 7, type: 'bool' },
                metadata: { id: 8, type: 'MetaData' },
                properties: { id: 9, type: 'PropertySet' },
                ...scalarValues(10),
                bytesValue: { id: 16, type: 'bytes' },
                datasetValue: { id: 17, type: 'DataSet' },
                templateValue: { id: 18, type: 'Template' },
                extensionValue: { id: 19, type: 'MetricValueExtension' },
              },
              nested: { MetricValueExtension: EXTENSION },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
/** the Payload message type; its nested types are reached through it */
export const PayloadType = root.lookupType('sparkplug.Payload');
