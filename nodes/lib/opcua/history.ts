// History backfill: fills each item's holes (see backfill.ts) from the server's history with
// HistoryRead (ReadRawModifiedDetails), following continuation points, within the server's
// operation limits, a maximum window and a maximum rate. It runs beside live data and never stops
// it: an error is reported once per backfill and the holes it could not fill are given up.
import {
  AttributeIds, HistoryData, HistoryReadRequest, ReadRawModifiedDetails, TimestampsToReturn, VariableIds,
} from 'node-opcua-client';
import type { Reading } from '../types';
import { withTimeout } from './connect-options';
import { readingOf } from './quality';
import type { ItemGroup, ItemState } from './item-group';
import type { Connection, GroupHost } from './group-host';
import { BACKFILL_DEFAULTS, backfillEnabled, closeGap, markNoHistory, noteBackfilled, persistItem } from './backfill';

export * from './backfill';

/** values one HistoryRead response may carry in total (nodes × values per node) */
const VALUES_PER_RESPONSE = 20000;
const DEFAULT_LIMIT = 1000;
const limitsOf = new WeakMap<Connection, { perHistoryRead: number; perRead: number }>();
/** a backfill asked for while one runs (another connection, or new holes): run after it */
const again = new WeakMap<ItemGroup, Connection>();

class Interrupted extends Error {}

/** MaxNodesPerHistoryReadData and MaxNodesPerRead from the server's OperationLimits (0 or unreadable: our default). */
async function operationLimits(host: GroupHost, conn: Connection): Promise<{ perHistoryRead: number; perRead: number }> {
  const known = limitsOf.get(conn);
  if (known) return known;
  const ids = [VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerHistoryReadData, VariableIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead];
  let values: number[] = [];
  try {
    const dvs = await withTimeout(conn.session!.read(ids.map((i) => ({ nodeId: `i=${i}`, attributeId: AttributeIds.Value }))), host.settings.requestTimeoutMs, 'read operation limits');
    values = dvs.map((dv) => (dv.statusCode.isGood() && Number(dv.value?.value) > 0 ? Number(dv.value.value) : DEFAULT_LIMIT));
  } catch {
    values = [DEFAULT_LIMIT, DEFAULT_LIMIT];
  }
  const limits = { perHistoryRead: values[0] ?? DEFAULT_LIMIT, perRead: values[1] ?? DEFAULT_LIMIT };
  limitsOf.set(conn, limits);
  return limits;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += Math.max(1, size)) out.push(list.slice(i, i + Math.max(1, size)));
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => { const t = setTimeout(r, ms); t.unref?.(); });

function alive(host: GroupHost, conn: Connection, g: ItemGroup): void {
  if (!host.usable(conn) || !host.registered(g)) throw new Interrupted('connection lost');
}

/** auto mode: items whose Historizing attribute is false (or unreadable) have no history. */
async function checkHistorizing(host: GroupHost, conn: Connection, g: ItemGroup, items: ItemState[], perRead: number, without: Map<ItemState, string>): Promise<void> {
  for (const part of chunks(items.filter((it) => !it.historyChecked), perRead)) {
    alive(host, conn, g);
    const dvs = await withTimeout(conn.session!.read(part.map((it) => ({ nodeId: it.resolved!, attributeId: AttributeIds.Historizing }))), host.settings.requestTimeoutMs, 'read Historizing');
    dvs.forEach((dv, k) => {
      part[k].historyChecked = true;
      if (!(dv.statusCode.isGood() && dv.value?.value === true)) without.set(part[k], dv.statusCode.isGood() ? 'Historizing is false' : `Historizing: ${dv.statusCode.name}`);
    });
  }
}

interface Range { it: ItemState; from: number; to: number; cp?: Buffer; empty?: number }

/** answers with a continuation point but no values in a row before a hole is given up */
const MAX_EMPTY_ANSWERS = 20;

/** Reads one chunk of items' oldest holes to the end, continuation point after continuation point. */
async function readChunk(host: GroupHost, conn: Connection, g: ItemGroup, ranges: Range[], stats: { values: number; reads: number }, without: Map<ItemState, string>): Promise<void> {
  const o = { ...BACKFILL_DEFAULTS, ...g.options.backfill! };
  // one request for the chunk: from its oldest start to its newest end; each item keeps only its own range
  const details = new ReadRawModifiedDetails({
    isReadModified: false,
    startTime: new Date(Math.min(...ranges.map((r) => r.from))),
    endTime: new Date(Math.max(...ranges.map((r) => r.to))),
    numValuesPerNode: o.valuesPerRead,
    returnBounds: false,
  });
  let pending = ranges;
  const abandoned: Range[] = [];
  try {
    while (pending.length) {
      alive(host, conn, g);
      const request = new HistoryReadRequest({
        historyReadDetails: details,
        timestampsToReturn: TimestampsToReturn.Both,
        releaseContinuationPoints: false,
        nodesToRead: pending.map((r) => ({ nodeId: r.it.resolved!, continuationPoint: r.cp })),
      });
      const response = await withTimeout(conn.session!.historyRead(request), host.settings.requestTimeoutMs, 'history read');
      stats.reads++;
      alive(host, conn, g);
      host.touchFrom(conn);
      const next: Range[] = [];
      const out: Reading[] = [];
      const now = Date.now();
      pending.forEach((range, k) => {
        const res = response.results?.[k];
        // no result for this node: the hole cannot be filled by this server answer; give it up
        if (!res) { closeGap(g, range.it); return; }
        const code = res.statusCode;
        if (code && (code.value >>> 30) > 1) { without.set(range.it, code.name); return; }
        const values = res.historyData instanceof HistoryData ? res.historyData.dataValues ?? [] : [];
        for (const dv of values) {
          const r: Reading = { ...readingOf(range.it, dv, now), backfill: true };
          // strictly inside the hole: its ends were sent live
          if (r.ts <= range.from || r.ts >= range.to) continue;
          if (range.it.backfilledTo !== undefined && r.ts <= range.it.backfilledTo) continue;
          out.push(r);
          noteBackfilled(g, range.it, r.ts);
        }
        // a server may answer a slow read with no values and a continuation point: follow it, a bounded number of times
        const cp = res.continuationPoint;
        const empty = values.length ? 0 : (range.empty ?? 0) + 1;
        if (cp && cp.length && empty <= MAX_EMPTY_ANSWERS) next.push({ ...range, cp, empty });
        else {
          if (cp && cp.length) abandoned.push({ ...range, cp });
          closeGap(g, range.it);
        }
      });
      if (out.length) {
        g.readingCount += out.length;
        g.backfilledCount += out.length;
        stats.values += out.length;
        g.listener.readings(out);
      }
      pending = next;
      // the rate bound: a long outage drains at maxValuesPerSecond, not at the server's speed
      if (out.length) await sleep((out.length * 1000) / Math.max(1, o.maxValuesPerSecond));
    }
  } finally {
    const open = [...pending, ...abandoned].filter((r) => r.cp);
    if (open.length && host.usable(conn)) {
      const release = new HistoryReadRequest({ historyReadDetails: details, releaseContinuationPoints: true, nodesToRead: open.map((r) => ({ nodeId: r.it.resolved!, continuationPoint: r.cp })) });
      await withTimeout(conn.session!.historyRead(release), host.settings.requestTimeoutMs, 'release continuation points').catch(() => undefined);
    }
  }
}

/** Waits (bounded) until every armed item has had its first live value, which ends its hole. */
async function waitForLive(host: GroupHost, conn: Connection, g: ItemGroup, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && g.items.some((it) => it.gaps.length && it.gaps[it.gaps.length - 1].to === undefined && !it.noHistory)) {
    alive(host, conn, g);
    await sleep(50);
  }
  const now = Date.now();
  // a quiet item: its hole ends now; a live value not newer than what the backfill sent is dropped
  for (const it of g.items) for (const gap of it.gaps) if (gap.to === undefined) gap.to = now;
}

/** One backfill pass over the group's holes; repeats while new holes appear. Never throws. */
export async function runBackfill(host: GroupHost, conn: Connection, g: ItemGroup): Promise<void> {
  if (!backfillEnabled(g)) return;
  if (g.backfilling) { again.set(g, conn); return; }
  const o = { ...BACKFILL_DEFAULTS, ...g.options.backfill! };
  g.backfilling = true;
  const stats = { values: 0, reads: 0 };
  const filled = new Set<ItemState>();
  let work: ItemState[] = [];
  try {
    for (let pass = 0; g.backfillAgain && pass < 10; pass++) {
      g.backfillAgain = false;
      await waitForLive(host, conn, g, o.liveWaitMs);
      work = g.items.filter((it) => it.gaps.length && it.resolved && !it.error && !it.noHistory);
      if (!work.length) continue;
      if (pass === 0) { g.listener.backfill?.({ kind: 'start', items: work.length }); g.listener.status?.(); }
      const limits = await operationLimits(host, conn);
      const without = new Map<ItemState, string>();
      if (o.mode === 'auto') await checkHistorizing(host, conn, g, work, limits.perRead, without);
      work = work.filter((it) => !without.has(it));
      for (const it of work) filled.add(it);
      const perRequest = Math.max(1, Math.min(limits.perHistoryRead, Math.floor(VALUES_PER_RESPONSE / Math.max(1, o.valuesPerRead))));
      let clipped = 0;
      let lostMs = 0;
      // holes are filled oldest first: one round per hole depth (most items have one)
      while (work.length) {
        const ranges: Range[] = [];
        for (const it of work) {
          const gap = it.gaps[0];
          const from = Math.max(gap.from, gap.to! - o.maxWindowMs);
          if (from > gap.from) { clipped++; lostMs = Math.max(lostMs, from - gap.from); gap.from = from; }
          if (gap.to! <= gap.from + 1) { closeGap(g, it); continue; }
          ranges.push({ it, from: gap.from, to: gap.to! });
        }
        for (const part of chunks(ranges, perRequest)) await readChunk(host, conn, g, part, stats, without);
        work = work.filter((it) => it.gaps.length && it.gaps[0].to !== undefined && !without.has(it));
      }
      if (clipped) g.listener.backfill?.({ kind: 'clipped', items: clipped, lostMs, maxWindowMs: o.maxWindowMs });
      if (without.size) {
        for (const it of without.keys()) markNoHistory(g, it);
        g.listener.backfill?.({ kind: 'noHistory', items: [...without].map(([it, reason]) => ({ sensorId: it.sensorId, nodeId: it.parsed!.text, reason })) });
      }
    }
    if (stats.reads || stats.values) g.listener.backfill?.({ kind: 'done', items: filled.size, values: stats.values, reads: stats.reads });
  } catch (err) {
    if (!(err instanceof Interrupted) && host.usable(conn) && host.registered(g)) {
      const message = (err as Error).message;
      const unsupported = /BadServiceUnsupported|BadHistoryOperationUnsupported/.test(message);
      const affected = g.items.filter((it) => it.gaps.length);
      // a failed backfill gives its holes up (reported), so that it cannot turn into a retry loop
      for (const it of affected) { if (unsupported) markNoHistory(g, it); else { it.gaps = []; persistItem(g, it); } }
      if (unsupported) g.listener.backfill?.({ kind: 'noHistory', items: affected.map((it) => ({ sensorId: it.sensorId, nodeId: it.parsed!.text, reason: message })) });
      else g.listener.backfill?.({ kind: 'error', message, items: affected.length });
    }
    // interrupted: the holes stay (their start moved with every value sent) for the next connection
  } finally {
    g.backfilling = false;
    g.listener.status?.();
    const next = again.get(g);
    again.delete(g);
    if (next && host.registered(g)) void runBackfill(host, next, g);
  }
}
