// Time-driven judging of the anomaly detector: stale sensors and expired shelves, looked for at the
// detector clock (reading time, or the latest-seen time from `tick`). No node-red import.
import type { AnomalyDetector } from './detector';
import { K_STALE } from './rules';
import { staleLimit } from './sensor';
import { activate, unshelveRecord } from './alarm';

/** Looks for stale sensors and expired shelves at `now` (detector clock). */
export function sweep(d: AnomalyDetector, now: number): void {
  d.nextSweepTs = now + d.sweepMs;
  const list = d.list;
  // A history detector sees only the outage's backfill: gaps between its readings are not silence.
  const staleBit = d.history ? 0 : 1 << K_STALE;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if ((s.rule.mask & staleBit) === 0 || (s.active & staleBit) !== 0) continue;
    // Judged on this sensor's own arrivals (NaN: none yet); the event carries the moment it became stale.
    const lim = staleLimit(s.rule, s.period);
    const due = s.arrival + lim;
    if (due <= now) activate(d, s, K_STALE, due, s.lastValue === s.lastValue ? s.lastValue : null, lim, now - s.arrival);
  }
  if (d.shelvedCount > 0) {
    for (let i = 0; i < list.length; i++) {
      for (let a = list[i].alarms; a !== null; a = a.next) if (a.shelvedUntil > 0 && a.shelvedUntil <= now) unshelveRecord(d, list[i], a, a.shelvedUntil);
    }
  }
}

/** After a restore: every sensor's stale count starts again at the first new reading. */
export function restartStaleCounts(d: AnomalyDetector, now: number): void {
  for (const s of d.list) if (s.arrival < now) s.arrival = now;
}
