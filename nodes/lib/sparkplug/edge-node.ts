// The edge node's Sparkplug state: devices and their metrics (names, datatypes, aliases), seq and bdSeq,
// and the payloads built from it. Pure: the session decides when each is sent.
import type { Quality } from '../types';
import { Datatype, QUALITY_CODE, UMetric, UPayload, datatypeOf, encode } from './codec';
import { topicOf } from './topics';

export const REBIRTH = 'Node Control/Rebirth';
export const BDSEQ = 'bdSeq';

/** One value to publish as a device metric. */
export interface Sample {
  device: string;
  metric: string;
  value: number | boolean | string | null;
  ts: number;
  quality: Quality;
  unit?: string;
  historical?: boolean;
}

interface MetricState {
  name: string;
  alias: number;
  type: Datatype;
  unit?: string;
  value: Sample['value'];
  ts: number;
  quality: Quality;
}

export interface Outbound {
  topic: string;
  payload: Buffer;
  /** for tests and logs */
  type: 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDATA';
}

function valueFields(type: Datatype, value: Sample['value']): Pick<UMetric, 'value' | 'isNull'> {
  // a value of another datatype than the birth announced (changed within one batch) travels as null
  if (value === null || datatypeOf(value) !== type || (typeof value === 'number' && !Number.isFinite(value))) return { value: null, isNull: true };
  return { value };
}

export class EdgeNodeModel {
  /** birth/death sequence of the current MQTT session; NDEATH (the will) and NBIRTH carry the same */
  bdSeq = -1;
  private seq = 0;
  private nextAlias = 1;
  private readonly devices = new Map<string, Map<string, MetricState>>();

  constructor(readonly group: string, readonly edgeNode: string) {}

  /** A new MQTT session: the next bdSeq (0–255) for its will and birth. */
  nextSession(): number {
    this.bdSeq = (this.bdSeq + 1) % 256;
    return this.bdSeq;
  }

  get deviceNames(): string[] {
    return [...this.devices.keys()];
  }

  private takeSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  ndeath(now = Date.now()): Outbound {
    const payload: UPayload = { timestamp: now, metrics: [{ name: BDSEQ, type: 'UInt64', value: this.bdSeq }] };
    return { type: 'NDEATH', topic: topicOf({ group: this.group, type: 'NDEATH', edgeNode: this.edgeNode }), payload: encode(payload) };
  }

  /** NBIRTH starts the seq over at 0. */
  nbirth(now = Date.now()): Outbound {
    this.seq = 0;
    const payload: UPayload = {
      timestamp: now,
      seq: this.takeSeq(),
      metrics: [
        { name: BDSEQ, type: 'UInt64', value: this.bdSeq, timestamp: now },
        { name: REBIRTH, type: 'Boolean', value: false, timestamp: now },
      ],
    };
    return { type: 'NBIRTH', topic: topicOf({ group: this.group, type: 'NBIRTH', edgeNode: this.edgeNode }), payload: encode(payload) };
  }

  /** Every metric of the device with its name, datatype, alias and last value. */
  dbirth(device: string, now = Date.now()): Outbound {
    const metrics: UMetric[] = [];
    for (const m of this.devices.get(device)?.values() ?? []) {
      const metric: UMetric = { name: m.name, alias: m.alias, type: m.type, timestamp: m.ts, ...valueFields(m.type, m.value) };
      const props: Record<string, { type: 'Int32' | 'String'; value: number | string }> = { Quality: { type: 'Int32', value: QUALITY_CODE[m.quality] } };
      if (m.unit) props.engUnit = { type: 'String', value: m.unit };
      metric.properties = props;
      metrics.push(metric);
    }
    const payload: UPayload = { timestamp: now, seq: this.takeSeq(), metrics };
    return { type: 'DBIRTH', topic: topicOf({ group: this.group, type: 'DBIRTH', edgeNode: this.edgeNode, device }), payload: encode(payload) };
  }

  /**
   * Registers the metrics of these samples; returns the devices whose birth certificate changed
   * (a new metric, or a metric whose datatype changed) and so need a DBIRTH before their data.
   */
  learn(samples: Sample[]): Set<string> {
    const changed = new Set<string>();
    for (const s of samples) {
      let metrics = this.devices.get(s.device);
      if (!metrics) this.devices.set(s.device, (metrics = new Map()));
      const type = datatypeOf(s.value);
      const known = metrics.get(s.metric);
      if (known && (known.type === type || s.value === null)) continue;
      metrics.set(s.metric, { name: s.metric, alias: known?.alias ?? this.nextAlias++, type, unit: s.unit, value: s.value, ts: s.ts, quality: s.quality });
      changed.add(s.device);
    }
    return changed;
  }

  /** DDATA for one device: aliases only, each metric with the sample's own timestamp. */
  ddata(device: string, samples: Sample[], now = Date.now()): Outbound {
    const metrics = this.devices.get(device) as Map<string, MetricState>;
    const out: UMetric[] = [];
    for (const s of samples) {
      const m = metrics.get(s.metric) as MetricState;
      const metric: UMetric = { alias: m.alias, type: m.type, timestamp: s.ts, ...valueFields(m.type, s.value) };
      if (s.historical) metric.isHistorical = true;
      if (s.quality !== 'good') metric.properties = { Quality: { type: 'Int32', value: QUALITY_CODE[s.quality] } };
      out.push(metric);
      if (s.ts >= m.ts) {
        m.value = s.value;
        m.ts = s.ts;
        m.quality = s.quality;
      }
    }
    const payload: UPayload = { timestamp: now, seq: this.takeSeq(), metrics: out };
    return { type: 'DDATA', topic: topicOf({ group: this.group, type: 'DDATA', edgeNode: this.edgeNode, device }), payload: encode(payload) };
  }
}
