// Payload field recognition for the normalizer: which key means sensorId, value, time, unit,
// quality or enrichment, and the small value helpers the core applies per reading.

import type { Quality } from '../types';
import { FORBIDDEN_KEYS } from './paths';
import { TopicInfo } from './topic';
import { KeyMeaning, parseMeasurementKey } from './units';

// Key roles for auto-detection.
export const R_ID = 1, R_VALUE = 2, R_TS = 3, R_UNIT = 4, R_QUALITY = 5, R_MEAS = 6, R_PLANT = 7, R_LINE = 8, R_ASSET = 9,
  R_TAGS = 10, R_STATUS = 11, R_META = 12, R_CONTAINER = 13, R_NAME = 14, R_CANDIDATE = 15, R_FORBIDDEN = 16, R_BACKFILL = 17;

export const ROLE_NAMES: Array<[number, string[]]> = [
  [R_ID, ['sensorid', 'sensor_id', 'sensor-id', 'sensor', 'deviceid', 'device_id', 'device', 'id', 'tagid', 'tag_id', 'tag', 'tagname', 'tag_name']],
  [R_VALUE, ['value', 'val', 'v', 'pv', 'reading']],
  [R_TS, ['ts', 'timestamp', 'time', 'datetime', 'date_time', 'time_stamp', 'sourcetimestamp', 'source_timestamp', 'epoch']],
  [R_UNIT, ['unit', 'units', 'uom', 'eu', 'engineering_unit']],
  [R_QUALITY, ['quality', 'q', 'qualitycode', 'quality_code']],
  [R_MEAS, ['measurement', 'metric', 'quantity', 'type', 'kind']],
  [R_NAME, ['name']],
  [R_PLANT, ['plantid', 'plant_id', 'plant']],
  [R_LINE, ['lineid', 'line_id', 'line']],
  [R_ASSET, ['assetid', 'asset_id', 'asset']],
  [R_TAGS, ['tags', 'labels']],
  [R_STATUS, ['statuscode', 'status_code']],
  [R_BACKFILL, ['backfill']],
  [R_META, ['seq', 'sequence', 'seqno', 'seq_no', 'msgid', 'msg_id', 'messageid', 'message_id', 'version', 'fw', 'firmware', 'location',
    'nodeid', 'node_id', 'status', 'servertimestamp', 'server_timestamp', 'sourcepicoseconds', 'serial', 'model', 'vendor', 'manufacturer',
    'description', 'desc', 'topic', 'interval', 'counter', 'count', 'index', 'uptime', '_msgid']],
  [R_CONTAINER, ['data', 'values', 'readings', 'measurements', 'metrics', 'fields', 'd', 'sensors', 'samples', 'payload']],
];
export const ROLE_BY_LOWER = new Map<string, number>();
for (const [role, names] of ROLE_NAMES) for (const n of names) ROLE_BY_LOWER.set(n, role);

export interface KeyClass { role: number; meaning?: KeyMeaning }
export const KEY_CACHE = new Map<string, KeyClass>();
export const KEY_CACHE_LIMIT = 10000;

export function classify(k: string): KeyClass {
  const hit = KEY_CACHE.get(k);
  if (hit !== undefined) return hit;
  let c: KeyClass;
  if (FORBIDDEN_KEYS.has(k)) c = { role: R_FORBIDDEN };
  else {
    const role = ROLE_BY_LOWER.get(k.toLowerCase());
    c = role !== undefined ? { role } : { role: R_CANDIDATE, meaning: parseMeasurementKey(k) };
  }
  if (KEY_CACHE.size < KEY_CACHE_LIMIT) KEY_CACHE.set(k, c);
  return c;
}

export const QUALITY_RANK: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
export const NO_TOPIC: TopicInfo = Object.freeze({});
export const MAX_ID_LENGTH = 256;
export const MAX_TEXT_VALUE = 1024;
export const MAX_TAGS = 64;
export const UNIT_CACHE_LIMIT = 1000;
export const RULE_CACHE_LIMIT = 50000;
/** Items nested deeper than this are not searched for readings (containers inside containers). */
export const MAX_ITEM_DEPTH = 4;

/** Extra fields an item carries besides its value (pass-through readings, nested containers). */
export interface Ctx {
  sensorId: unknown;
  ts: unknown;
  unit: unknown;
  quality: unknown;
  plantId: unknown;
  lineId: unknown;
  assetId: unknown;
  tags: unknown;
  statusCode: unknown;
  /** the OPC-UA poller's history flag: only `true` is carried on */
  backfill: unknown;
}

export function quality(v: unknown): Quality {
  if (v === undefined || v === null) return 'good';
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s.startsWith('good') || s === 'ok') return 'good';
    if (s.startsWith('bad')) return 'bad';
    return 'uncertain';
  }
  if (typeof v === 'number') {
    // OPC-UA StatusCode: the top two bits are the severity.
    const sev = (v >>> 30) & 3;
    return sev === 0 ? 'good' : sev === 1 ? 'uncertain' : 'bad';
  }
  if (typeof v === 'boolean') return v ? 'good' : 'bad';
  return 'uncertain';
}

export function worse(a: Quality, b: Quality): Quality {
  return QUALITY_RANK[a] >= QUALITY_RANK[b] ? a : b;
}

export function idText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 && v.length <= MAX_ID_LENGTH && !FORBIDDEN_KEYS.has(v) ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export const NUMBER_WITH_UNIT = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.{0,15})$/;

export function looksNumeric(s: string): boolean {
  const c = s.charCodeAt(0);
  // digit, sign or dot first: a number; NaN/Infinity are numbers too, rejected as not finite.
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || s === 'NaN' || s === 'Infinity';
}

export function autoField(obj: any, role: number): unknown {
  for (const k in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, k) && classify(k).role === role) return obj[k];
  }
  return undefined;
}

/** Payload tags (sanitized) overlaid by configured tags; a fresh object per reading so readings never share state. */
export function mergeTags(fromPayload: unknown, fromConfig: Record<string, string> | undefined): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  if (fromPayload !== null && typeof fromPayload === 'object' && !Array.isArray(fromPayload)) {
    let n = 0;
    for (const k in fromPayload) {
      if (!Object.prototype.hasOwnProperty.call(fromPayload, k) || FORBIDDEN_KEYS.has(k) || k.length > 128) continue;
      const v = (fromPayload as any)[k];
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
      if (out === undefined) out = {};
      out[k] = String(v).slice(0, 256);
      if (++n >= MAX_TAGS) break;
    }
  }
  if (fromConfig !== undefined) {
    if (out === undefined) out = {};
    for (const k in fromConfig) out[k] = fromConfig[k];
  }
  return out;
}
