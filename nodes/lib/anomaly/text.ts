// Words and shapes around the anomaly detector: event messages, limits, reading checks, annotation.
import type { Reading } from '../types';
import {
  CompiledRule, KINDS, K_DEV, K_HIHI, K_HI, K_LO, K_LOLO, K_RATE, K_Z, K_FLAT, K_STALE, K_QUAL, K_DRIFT,
} from './rules';

export const EMPTY: readonly string[] = Object.freeze([]);
/** what the detector returns for a reading it leaves alone (backfill in a live detector): not annotated */
export const PASSED: readonly string[] = Object.freeze([]);

/** The list of active kinds for a bitmask, cached: alarms change rarely and lists are shared. */
const listCache = new Map<number, readonly string[]>();
export function activeList(mask: number): readonly string[] {
  if (mask === 0) return EMPTY;
  let l = listCache.get(mask);
  if (l === undefined) {
    const kinds: string[] = [];
    for (let k = 0; k < KINDS.length; k++) if ((mask & (1 << k)) !== 0) kinds.push(KINDS[k]);
    l = Object.freeze(kinds);
    listCache.set(mask, l);
  }
  return l;
}

/** The configured limit of an alarm kind, for lifecycle events (stale/flatline: see the detector). */
export function ruleLimit(r: CompiledRule, k: number): number {
  switch (k) {
    case K_DEV: return r.deviation;
    case K_HIHI: return r.hihi;
    case K_HI: return r.hi;
    case K_LO: return r.lo;
    case K_LOLO: return r.lolo;
    case K_RATE: return r.rate;
    case K_Z: return r.zscore;
    case K_DRIFT: return r.drift;
    default: return NaN;
  }
}

export function describe(k: number, v: unknown, limit: number, dev: number): string {
  const f = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x));
  switch (k) {
    case K_DEV: return `value ${f(v as number)} deviates ${f(dev)} from baseline (limit ±${f(limit)})`;
    case K_HIHI: case K_HI: return `value ${f(v as number)} vs high limit ${f(limit)}`;
    case K_LO: case K_LOLO: return `value ${f(v as number)} vs low limit ${f(limit)}`;
    case K_RATE: return `rate ${f(dev)}/s (limit ±${f(limit)}/s)`;
    case K_Z: return `z-score ${f(dev)} (limit ±${f(limit)})`;
    case K_DRIFT: return `cumulative drift ${f(dev)} σ (limit ${f(limit)} σ)`;
    case K_FLAT: return `value ${String(v)} unchanged for ${f(dev / 1000)} s (limit ${f(limit / 1000)} s)`;
    case K_STALE: return `no reading for ${f(dev / 1000)} s (limit ${f(limit / 1000)} s)`;
    case K_QUAL: return `quality bad (value ${String(v)})`;
    default: return String(v);
  }
}

/** A value the detectors can use: finite number, boolean or string (discrete signals). */
export function usable(v: unknown): boolean {
  return typeof v === 'number' ? v === v && v !== Infinity && v !== -Infinity : typeof v === 'boolean' || typeof v === 'string';
}

/** A reading the detector can evaluate: sensorId string and finite numeric ts. */
export function isReading(r: unknown): r is Reading {
  return r !== null && typeof r === 'object' && typeof (r as Reading).sensorId === 'string' && (r as Reading).sensorId !== '' &&
    typeof (r as Reading).ts === 'number' && Number.isFinite((r as Reading).ts);
}

/** Why a value is not a reading (for error messages). */
export function readingProblem(r: unknown): string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'payload is not a reading object';
  const x = r as Record<string, unknown>;
  if (typeof x.sensorId !== 'string' || x.sensorId === '') return 'reading.sensorId must be a non-empty string';
  if (typeof x.ts !== 'number' || !Number.isFinite(x.ts)) return 'reading.ts must be epoch milliseconds';
  return '';
}

/** Sets reading.alarms to the active kinds, only when there are any; a PASSED reading is left as it is. */
export function annotateReading(r: Reading & { alarms?: readonly string[] }, list: readonly string[]): void {
  if (list === PASSED) return;
  if (list.length !== 0) r.alarms = list;
  else if (r.alarms !== undefined) delete r.alarms;
}

export function j(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
export function jv(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}
