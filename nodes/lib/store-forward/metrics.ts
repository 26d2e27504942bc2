// Metrics the buffer reports on its second output, and the delivered/s meter behind them.

export type DropReason = 'overflow' | 'disk-full' | 'ttl' | 'corrupt';

export interface Metrics {
  state: 'forwarding' | 'waiting' | 'paused';
  /** stored messages not yet acknowledged (including ones in flight) */
  backlog: number;
  bytes: number;
  oldestAgeMs: number;
  /** forwarded messages (single or batch) awaiting an answer */
  inFlight: number;
  /** stored messages inside those */
  inFlightMessages: number;
  accepted: number;
  delivered: number;
  deliveredReadings: number;
  deliveredPerSec: number;
  failures: number;
  timeouts: number;
  drops: Record<DropReason, number>;
  dropped: number;
  deadLetters: number;
  /** answers that settled nothing (malformed, from an earlier instance, unknown seq, ids not as sent) */
  rejectedAnswers: number;
  rejected: Record<'malformed' | 'foreign-token' | 'unknown-seq' | 'ids-mismatch', number>;
  /** SQLite errors met (other than a full disk) */
  storeErrors: number;
  /** messages held in memory while the file cannot be written */
  heldInMemory: number;
  diskFull: boolean;
  /** set while the file cannot be written (SQLITE_BUSY, IOERR…) */
  storeError: string | null;
  lastError: string | null;
  dbPath: string;
  fileBytes: number;
  /** the SQLite engine holding the file */
  engine: 'better-sqlite3' | 'node:sqlite';
}

/** Rate over the last few seconds from periodic samples of a growing counter. */
export class RateMeter {
  private samples: Array<[number, number]> = [];

  constructor(private windowMs = 5000) {}

  sample(value: number, now: number = Date.now()): void {
    this.samples.push([now, value]);
    while (this.samples.length > 2 && now - this.samples[1][0] >= this.windowMs) this.samples.shift();
  }

  rate(value: number, now: number = Date.now()): number {
    const first = this.samples[0];
    if (!first || now - first[0] < 1) return 0;
    return Math.round(((value - first[1]) * 1000) / (now - first[0]));
  }
}
