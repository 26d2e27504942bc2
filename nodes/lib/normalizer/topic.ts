// Topic → sensorId (and measurement, plantId, lineId, assetId): a pattern with named segments
// ("sensors/+sensorId/data") or, without one, a heuristic. Results are cached per topic.

import { parseMeasurementKey } from './units';

export interface TopicInfo {
  sensorId?: string;
  measurement?: string;
  unit?: string;
  plantId?: string;
  lineId?: string;
  assetId?: string;
}

const NAMES = new Set(['sensorId', 'measurement', 'plantId', 'lineId', 'assetId']);
type Name = 'sensorId' | 'measurement' | 'plantId' | 'lineId' | 'assetId';

interface Segment { literal?: string; name?: Name; rest?: boolean }

/** Generic last segments that describe the message, not the sensor. */
const GENERIC = new Set(['data', 'value', 'values', 'state', 'status', 'telemetry', 'reading', 'readings', 'measurement', 'measurements', 'raw', 'json', 'up', 'uplink', 'event', 'events', 'pv']);
/** First segments that announce a sensor id after them. */
const PREFIX = new Set(['sensors', 'sensor', 'devices', 'device', 'dev', 'tags', 'tag', 'things', 'thing']);

const CACHE_LIMIT = 10000;
const NO_MATCH: TopicInfo = Object.freeze({});

export class TopicParser {
  private readonly segments: Segment[] | null;
  private readonly cache = new Map<string, TopicInfo>();

  /** pattern: '' for the heuristic. Throws on a pattern that cannot match. */
  constructor(pattern: string) {
    const p = pattern.trim();
    if (p === '') {
      this.segments = null;
      return;
    }
    this.segments = p.split('/').map((s, i, all): Segment => {
      if (s.startsWith('+') || s.startsWith('#')) {
        const name = s.slice(1);
        if (name !== '' && !NAMES.has(name)) throw new Error(`topic pattern "${pattern}": unknown segment name "${name}" (use sensorId, measurement, plantId, lineId or assetId)`);
        if (s[0] === '#' && i !== all.length - 1) throw new Error(`topic pattern "${pattern}": # must be last`);
        return { name: (name || undefined) as Name | undefined, rest: s[0] === '#' };
      }
      if (s.includes('+') || s.includes('#')) throw new Error(`topic pattern "${pattern}": wildcards must fill a whole segment`);
      return { literal: s };
    });
    if (!this.segments.some((s) => s.name)) throw new Error(`topic pattern "${pattern}" names no segment: write e.g. sensors/+sensorId/data`);
  }

  get hasPattern(): boolean {
    return this.segments !== null;
  }

  /** What the topic says; an empty object when it says nothing (or does not match the pattern). */
  parse(topic: unknown): TopicInfo {
    if (typeof topic !== 'string' || topic === '') return NO_MATCH;
    const hit = this.cache.get(topic);
    if (hit !== undefined) return hit;
    const info = this.segments ? this.match(topic) : heuristic(topic);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(topic, info);
    return info;
  }

  private match(topic: string): TopicInfo {
    const parts = topic.split('/');
    const segs = this.segments as Segment[];
    const out: TopicInfo = {};
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s.rest) {
        if (i >= parts.length) return NO_MATCH;
        if (s.name) out[s.name] = parts.slice(i).join('/');
        return finish(out);
      }
      if (i >= parts.length) return NO_MATCH;
      if (s.literal !== undefined) {
        if (s.literal !== parts[i]) return NO_MATCH;
      } else {
        if (parts[i] === '') return NO_MATCH;
        if (s.name) out[s.name] = parts[i];
      }
    }
    return parts.length === segs.length ? finish(out) : NO_MATCH;
  }
}

function finish(out: TopicInfo): TopicInfo {
  if (out.measurement !== undefined) {
    const k = parseMeasurementKey(out.measurement);
    out.measurement = k.measurement;
    if (k.unit) out.unit = k.unit;
  }
  return Object.freeze(out);
}

/** sensors/TEMP-01/data → TEMP-01; plant/line1/TEMP-01 → TEMP-01; sensors/TEMP-01/temperature → TEMP-01 + temperature. */
function heuristic(topic: string): TopicInfo {
  const parts = topic.split('/').filter((p) => p !== '');
  if (parts.length === 0) return NO_MATCH;
  if (parts.length === 1) return Object.freeze({ sensorId: parts[0] });
  if (PREFIX.has(parts[0].toLowerCase())) {
    const out: TopicInfo = { sensorId: parts[1] };
    if (parts.length === 3 && !GENERIC.has(parts[2].toLowerCase())) {
      const k = parseMeasurementKey(parts[2]);
      if (k.numeric) {
        out.measurement = k.measurement;
        if (k.unit) out.unit = k.unit;
      }
    }
    return Object.freeze(out);
  }
  let end = parts.length - 1;
  while (end > 0 && GENERIC.has(parts[end].toLowerCase())) end--;
  const last = parseMeasurementKey(parts[end]);
  if (last.numeric && end > 0) {
    const out: TopicInfo = { sensorId: parts[end - 1], measurement: last.measurement };
    if (last.unit) out.unit = last.unit;
    return Object.freeze(out);
  }
  return Object.freeze({ sensorId: parts[end] });
}
