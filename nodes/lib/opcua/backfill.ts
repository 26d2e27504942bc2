// Which values a poller missed: each item keeps the holes in its data ("gaps") between the last good
// value it sent and the first live value after a reconnect or restart. The history reader fills
// them; the last-good file keeps the start of the oldest unfilled hole, so a gateway killed in the
// middle of a backfill starts again where it stopped.
import type { Reading } from '../types';
import type { ItemGroup, ItemState } from './item-group';
import type { LastGoodStore } from './last-good';
import { numberOr } from '../common/numbers';

export type BackfillMode = 'auto' | 'on' | 'off';

export interface BackfillOptions {
  /** auto: items whose node is Historizing; on: every item; off: never */
  mode: BackfillMode;
  /** oldest data a backfill asks for, counted back from the first live value (default 1 h) */
  maxWindowMs: number;
  /** backfilled readings per second, all items together (default 10,000) */
  maxValuesPerSecond: number;
  /** values per node per HistoryRead response; more come through continuation points (default 1,000) */
  valuesPerRead: number;
  /** how long to wait for an item's first live value, which ends its hole (default 5 s) */
  liveWaitMs?: number;
  store: LastGoodStore;
}

export const BACKFILL_DEFAULTS = { maxWindowMs: 3600000, maxValuesPerSecond: 10000, valuesPerRead: 1000, liveWaitMs: 5000 };

/** The poller's saved settings (blank or invalid numbers take the defaults). */
export function backfillOptionsFrom(def: { backfill?: unknown; backfillWindowMin?: unknown; backfillRate?: unknown; backfillValuesPerRead?: unknown }, store: LastGoodStore): BackfillOptions {
  const mode: BackfillMode = def.backfill === 'on' || def.backfill === 'off' ? def.backfill : 'auto';
  return {
    mode,
    maxWindowMs: numberOr(def.backfillWindowMin, BACKFILL_DEFAULTS.maxWindowMs / 60000, { positive: true }) * 60000,
    maxValuesPerSecond: numberOr(def.backfillRate, BACKFILL_DEFAULTS.maxValuesPerSecond, { positive: true }),
    valuesPerRead: numberOr(def.backfillValuesPerRead, BACKFILL_DEFAULTS.valuesPerRead, { positive: true, integer: true }),
    store,
  };
}

/** A hole: values with from < ts < to are missing (to unknown until the first live value). */
export interface Gap { from: number; to?: number }

export type BackfillEvent =
  | { kind: 'start'; items: number }
  | { kind: 'done'; items: number; values: number; reads: number }
  | { kind: 'noHistory'; items: Array<{ sensorId: string; nodeId: string; reason: string }> }
  | { kind: 'clipped'; items: number; lostMs: number; maxWindowMs: number }
  | { kind: 'error'; message: string; items: number };

export function backfillEnabled(g: ItemGroup): boolean {
  const o = g.options.backfill;
  return !!o && o.mode !== 'off';
}

export function itemKey(it: ItemState): string { return it.parsed ? it.parsed.text : String(it.spec.nodeId); }

/** Persists where the item's data is complete up to: the oldest hole's start, else the last good value. */
export function persistItem(g: ItemGroup, it: ItemState): void {
  const at = it.gaps.length ? it.gaps[0].from : it.lastGoodTs;
  if (at !== undefined) g.options.backfill?.store.note(itemKey(it), at);
}

/**
 * Called before a (re)connected session delivers live data: every item that has sent a good value
 * (in this process or, through the last-good file, before a restart) gets a hole that its first
 * live value will close. Returns whether any item got one.
 */
export function armBackfill(g: ItemGroup): boolean {
  const o = g.options.backfill;
  if (!o || o.mode === 'off') return false;
  let armed = false;
  for (const it of g.items) {
    if (!it.parsed || it.noHistory || (it.error && !it.resolved)) continue;
    if (it.lastGoodTs === undefined) it.lastGoodTs = o.store.get(itemKey(it));
    if (it.lastGoodTs === undefined) continue;
    const last = it.gaps[it.gaps.length - 1];
    // still open (no live value since the previous arming): the same hole just grows
    if (!last || last.to !== undefined) it.gaps.push({ from: it.lastGoodTs });
    armed = true;
  }
  if (armed) g.backfillAgain = true;
  return armed;
}

/**
 * Every live reading passes here. Returns false for a duplicate of a value the backfill already
 * sent; otherwise closes the item's open hole with the reading's timestamp and records it as the
 * last good value.
 */
export function noteLive(g: ItemGroup, it: ItemState, r: Reading): boolean {
  if (!g.options.backfill || r.quality !== 'good') return true;
  if (it.backfilledTo !== undefined && r.ts <= it.backfilledTo) return false;
  const last = it.gaps[it.gaps.length - 1];
  if (last && last.to === undefined) {
    last.to = r.ts;
    // the value sent before the outage, delivered again as the subscription's first value
    if (r.ts <= last.from) return false;
  }
  if (it.lastGoodTs === undefined || r.ts > it.lastGoodTs) it.lastGoodTs = r.ts;
  persistItem(g, it);
  return true;
}

/** A backfilled value was sent: the hole now starts there (exact resume after a crash). */
export function noteBackfilled(g: ItemGroup, it: ItemState, ts: number): void {
  const gap = it.gaps[0];
  if (gap && ts > gap.from) gap.from = ts;
  if (it.backfilledTo === undefined || ts > it.backfilledTo) it.backfilledTo = ts;
  if (it.lastGoodTs === undefined || ts > it.lastGoodTs) it.lastGoodTs = ts;
  persistItem(g, it);
}

/** The oldest hole is filled (or cannot be): forget it. */
export function closeGap(g: ItemGroup, it: ItemState): void {
  it.gaps.shift();
  persistItem(g, it);
}

/** The server keeps no history for this item: drop its holes and never ask again. */
export function markNoHistory(g: ItemGroup, it: ItemState): void {
  it.noHistory = true;
  it.gaps = [];
  persistItem(g, it);
}
