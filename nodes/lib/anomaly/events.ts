// The events the anomaly detector announces: one per alarm change, or (grouping) one episode per
// sensor with its per-kind detail; and the count of announced activations per minute. No node-red import.
import type { AnomalyDetector, AnomalyEvent } from './detector';
import { KINDS, SEVERITY, SEVERITY_RANK } from './rules';
import { AlarmRecord, SensorState, record, limitOf, newEpisode, EP_SINCE, EP_COUNT, EP_MASK, EP_KIND, EP_SEV } from './sensor';
import { activeList } from './text';

const MINUTE = 60000;
export const WINDOW_MINUTES = 10;

/** Grouping: the first announced alarm opens the sensor's episode; a more severe one escalates it. */
export function episodeOn(d: AnomalyDetector, s: SensorState, a: AlarmRecord, t: number, v: unknown, limit: number, dev: number, msg: string): void {
  const f = s.ep ?? (s.ep = newEpisode());
  const k = a.kind;
  if (f[EP_SINCE] !== f[EP_SINCE]) {
    f[EP_SINCE] = t;
    f[EP_COUNT] = 1;
    f[EP_MASK] = 1 << k;
    f[EP_KIND] = k;
    f[EP_SEV] = SEVERITY_RANK[k];
    countActivation(d, t);
    emit(d, s, a, 'active', t, v, limit, dev, msg);
    return;
  }
  f[EP_COUNT]++;
  f[EP_MASK] = f[EP_MASK] | (1 << k);
  if (SEVERITY_RANK[k] > f[EP_SEV]) {
    f[EP_SEV] = SEVERITY_RANK[k];
    emit(d, s, a, 'escalated', t, v, limit, dev, `${msg} (escalates the episode since ${new Date(f[EP_SINCE]).toISOString()})`);
  }
}

/** Closes the episode when no announced (unshelved) alarm of the sensor is left active. */
export function episodeOff(d: AnomalyDetector, s: SensorState, t: number, v: unknown, limit: number, dev: number, msg: string): void {
  const f = s.ep;
  if (f === null || f[EP_SINCE] !== f[EP_SINCE]) return;
  for (let a = s.alarms; a !== null; a = a.next) if ((s.active & (1 << a.kind)) !== 0 && a.shelvedUntil === 0) return;
  const first = record(s, f[EP_KIND]);
  const secs = Math.round((t - f[EP_SINCE]) / 100) / 10;
  const kinds = activeList(f[EP_MASK]);
  emit(d, s, first, 'cleared', t, v, limit, dev, `${msg}; episode over after ${secs} s (${kinds.join(', ')}; ${f[EP_COUNT]} activation${f[EP_COUNT] === 1 ? '' : 's'})`);
  f[EP_SINCE] = NaN;
  f[EP_COUNT] = 0;
  f[EP_MASK] = 0;
}

/** Queues one event (taken by AnomalyDetector.takeEvents). */
export function emit(d: AnomalyDetector, s: SensorState, a: AlarmRecord, state: string, t: number, v: unknown, limit: number, dev: number, message: string): void {
  const ev: AnomalyEvent = { sensorId: s.sensorId, kind: KINDS[a.kind], state, severity: SEVERITY[a.kind], value: v, ts: t, message };
  if (d.history) ev.historical = true;
  if (limit === limit) ev.limit = limit;
  if (dev === dev) ev.deviation = dev;
  if (a.activeSince === a.activeSince) ev.activeSince = a.activeSince;
  if (a.acked) ev.acknowledged = true;
  if (a.shelvedUntil > 0) ev.shelvedUntil = a.shelvedUntil;
  if (a.chattering) ev.chattering = true;
  const f = s.ep;
  if (d.group && f !== null && f[EP_SINCE] === f[EP_SINCE]) {
    const mask = f[EP_MASK];
    ev.activeSince = f[EP_SINCE];
    ev.severity = f[EP_SEV] === 3 ? 'high' : f[EP_SEV] === 2 ? 'medium' : 'low';
    ev.episode = { since: f[EP_SINCE], count: f[EP_COUNT], kinds: activeList(mask).slice(), active: s.list.slice() };
    if (state === 'cleared') ev.episode.durationMs = t - f[EP_SINCE];
    ev.detail = [];
    for (let k = 0; k < KINDS.length; k++) {
      if ((mask & (1 << k)) === 0) continue;
      const r = record(s, k);
      const item: NonNullable<AnomalyEvent['detail']>[number] = { kind: KINDS[k], active: (s.active & (1 << k)) !== 0 };
      if (r.act0 !== -Infinity) item.since = r.act0;
      if (r.value !== undefined) item.value = r.value;
      const lim = limitOf(s, k);
      if (lim === lim) item.limit = lim;
      ev.detail.push(item);
    }
  }
  d.events.push(ev);
}

/** Counts one announced activation (an episode when grouping) in its minute of reading time. */
export function countActivation(d: AnomalyDetector, t: number): void {
  const m = Math.floor(t / MINUTE);
  const slot = ((m % WINDOW_MINUTES) + WINDOW_MINUTES) % WINDOW_MINUTES;
  if (d.minuteKey[slot] !== m) {
    d.minuteKey[slot] = m;
    d.minuteCount[slot] = 0;
  }
  d.minuteCount[slot]++;
}

/** Announced activations in the 10 minutes up to `now` (reading time). */
export function activationsPer10Min(d: AnomalyDetector, now: number): number {
  const m = Math.floor(now / MINUTE);
  let n = 0;
  for (let i = 0; i < WINDOW_MINUTES; i++) if (d.minuteKey[i] > m - WINDOW_MINUTES && d.minuteKey[i] <= m) n += d.minuteCount[i];
  return n;
}
