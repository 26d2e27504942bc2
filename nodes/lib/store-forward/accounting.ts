// Drop and error accounting: every reading that leaves the buffer without delivery is counted by reason,
// and faults reach the user once per state change or at a bounded rate, never once per reading.
import type { DropReason } from './metrics';
import type { Rejection } from './ledger';
import type { FaultLevel } from './types';

export class Accounting {
  drops: Record<DropReason, number> = { overflow: 0, 'disk-full': 0, ttl: 0, corrupt: 0 };
  /** answers that proved nothing, by why */
  rejected: Record<Rejection, number> = { malformed: 0, 'foreign-token': 0, 'unknown-seq': 0, 'ids-mismatch': 0 };
  /** SQLite errors met (any operation) */
  storeErrors = 0;
  lastError: string | null = null;
  private lastReport = new Map<string, { at: number; suppressed: number }>();

  constructor(private sink: (text: string, level: FaultLevel) => void, private now: () => number) {}

  drop(reason: DropReason, n: number): void {
    if (n > 0) this.drops[reason] += n;
  }

  get dropped(): number {
    const d = this.drops;
    return d.overflow + d['disk-full'] + d.ttl + d.corrupt;
  }

  get rejectedTotal(): number {
    const r = this.rejected;
    return r.malformed + r['foreign-token'] + r['unknown-seq'] + r['ids-mismatch'];
  }

  /** Reports at once. */
  report(text: string, level: FaultLevel = 'error'): void {
    if (level !== 'info') this.lastError = text;
    this.sink(text, level);
  }

  /** Starts the rate limit of `key` now, as if it had just been reported. */
  prime(key: string): void {
    this.lastReport.set(key, { at: this.now(), suppressed: 0 });
  }

  /** Reports under `key` at most once per everyMs; what was held back is counted in the next report. */
  limited(key: string, text: string, everyMs = 60000, level: FaultLevel = 'error'): void {
    if (level === 'error') this.lastError = text;
    const t = this.now();
    const r = this.lastReport.get(key);
    if (r && t - r.at < everyMs) {
      r.suppressed++;
      return;
    }
    const more = r && r.suppressed ? ` (${r.suppressed} more like this since the last report)` : '';
    this.lastReport.set(key, { at: t, suppressed: 0 });
    this.sink(text + more, level);
  }
}
