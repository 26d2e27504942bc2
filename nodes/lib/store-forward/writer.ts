// The write side: grouped commits of new rows, acknowledged deletes, dead letters and attempt counts in one
// transaction; a full disk, a corrupt file and other SQLite errors each handled without losing count.
import { isCorrupt, isDiskFull, Removed, SqliteQueue } from './queue';
import type { EncodedMessage } from './codec';
import type { Accounting } from './accounting';
import type { AcceptCallback, BufferOptions } from './types';

export interface Pending {
  enc: EncodedMessage;
  /** accept time (monotonic-backed epoch ms) */
  ts: number;
  payload: unknown;
  cb: AcceptCallback;
}

export interface DeadRange {
  lo: number;
  hi: number;
  error: string;
}

export interface WriterHost {
  readonly opts: BufferOptions;
  readonly queue: SqliteQueue;
  readonly acct: Accounting;
  readonly closed: boolean;
  committed(batch: Pending[], firstId: number): void;
  delivered(rows: number): void;
  gone(through: number): void;
  /** the file is corrupt: quarantine it and open a fresh one (pending input stays here) */
  corrupt(err: any): void;
  changed(): void;
}

export class Writer {
  pending: Pending[] = [];
  pendingBytes = 0;
  private deletes: Array<[number, number]> = [];
  private dead: DeadRange[] = [];
  private attempts: Array<[number, number]> = [];
  diskFull = false;
  /** rows stored when the disk got full: space is back once more than that fits, or half of it was delivered */
  private fullAt = 0;
  /** set while the file cannot be written for another reason; input is held in memory meanwhile */
  storeError: string | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 0;

  constructor(private host: WriterHost) {}

  add(p: Pending): void {
    this.pending.push(p);
    this.pendingBytes += p.enc.size;
    if (this.pending.length >= this.host.opts.commitMaxRows && !this.storeError) this.commit();
    else this.schedule();
  }

  /** Drops the oldest input held in memory (the file cannot take it); returns it for counting. */
  shiftOldest(): Pending | undefined {
    const p = this.pending.shift();
    if (p) this.pendingBytes -= p.enc.size;
    return p;
  }

  ack(lo: number, hi: number): void {
    this.deletes.push([lo, hi]);
  }

  deadLetter(lo: number, hi: number, error: string): void {
    this.dead.push({ lo, hi, error });
  }

  attempt(lo: number, hi: number): void {
    this.attempts.push([lo, hi]);
  }

  /** Acknowledgements, dead letters and attempts refer to rows of a file that is gone. */
  forgetRowWork(): void {
    this.deletes = [];
    this.dead = [];
    this.attempts = [];
  }

  schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.commit();
    });
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** One transaction for everything waiting. Never throws. */
  commit(): void {
    const h = this.host;
    const q = h.queue;
    if (!q.isOpen) return;
    const batch = this.pending;
    const deletes = this.deletes;
    const dead = this.dead;
    const attempts = this.attempts;
    if (!batch.length && !deletes.length && !dead.length && !attempts.length) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.deletes = [];
    this.dead = [];
    this.attempts = [];
    const firstId = q.lastId + 1;
    let r: { delivered: number; overflow: Removed };
    try {
      r = q.transaction(() => {
        const delivered = this.writeAcks(deletes, dead, attempts);
        const overflow = this.insertRows(batch, 0);
        q.persistCount();
        return { delivered, overflow };
      });
    } catch (err: any) {
      if (isDiskFull(err)) return this.onFullDisk(batch, deletes, dead, attempts, err);
      this.restore(batch, deletes, dead, attempts);
      if (isCorrupt(err)) {
        this.forgetRowWork();
        return h.corrupt(err);
      }
      return this.failed(err);
    }
    this.written();
    h.delivered(r.delivered);
    h.acct.drop('overflow', r.overflow.count);
    if (r.overflow.through) h.gone(r.overflow.through);
    h.committed(batch, firstId);
  }

  private restore(batch: Pending[], deletes: Array<[number, number]>, dead: DeadRange[], attempts: Array<[number, number]>): void {
    this.pending = batch.concat(this.pending);
    this.pendingBytes = 0;
    for (const p of this.pending) this.pendingBytes += p.enc.size;
    this.deletes = deletes.concat(this.deletes);
    this.dead = dead.concat(this.dead);
    this.attempts = attempts.concat(this.attempts);
  }

  /** A write worked: leave the error states, saying so once. */
  private written(): void {
    const h = this.host;
    if (this.storeError) {
      this.storeError = null;
      this.retryMs = 0;
      h.acct.report(`store-forward: ${h.queue.path} can be written again`, 'info');
      h.changed();
    }
    const q = h.queue;
    if (this.diskFull && (q.count > this.fullAt + Math.max(100, this.fullAt / 10) || q.count < this.fullAt / 2)) {
      this.diskFull = false;
      h.acct.report(`store-forward: disk space is back; ${h.acct.drops['disk-full']} messages were dropped while the disk was full`, 'info');
      h.changed();
    }
  }

  /** SQLITE_BUSY, IOERR and the like: keep everything in memory and try again later. */
  private failed(err: any): void {
    const h = this.host;
    h.acct.storeErrors++;
    const first = !this.storeError;
    this.storeError = `${err.code ?? 'error'}: ${err.message}`;
    const text = `store-forward: cannot write ${h.queue.path} (${this.storeError}); holding ${this.pending.length} messages in memory and retrying`;
    if (first) {
      h.acct.report(text);
      h.acct.prime('store-error');
    } else h.acct.limited('store-error', text);
    this.retryLater();
    if (first) h.changed();
  }

  private retryLater(): void {
    this.retryMs = Math.min(10000, Math.max(100, this.retryMs * 2));
    if (!this.retryTimer && !this.host.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.commit();
      }, this.retryMs);
    }
  }

  private writeAcks(deletes: Array<[number, number]>, dead: DeadRange[], attempts: Array<[number, number]>): number {
    const q = this.host.queue;
    let delivered = 0;
    const now = Date.now();
    for (const [lo, hi] of deletes) delivered += q.deleteRange(lo, hi).count;
    for (const d of dead) q.deadLetter(d.lo, d.hi, d.error, now);
    for (const [lo, hi] of attempts) q.markAttempt(lo, hi);
    return delivered;
  }

  /** Inserts the batch; with drop-oldest, trims the oldest rows past the bounds. Returns what was dropped. */
  private insertRows(batch: Pending[], freeRows: number): Removed {
    const q = this.host.queue;
    const o = this.host.opts;
    const dropped: Removed = { count: 0, bytes: 0, through: 0 };
    const add = (r: Removed) => {
      dropped.count += r.count;
      dropped.bytes += r.bytes;
      dropped.through = Math.max(dropped.through ?? 0, r.through ?? 0);
    };
    if (freeRows > 0) add(q.dropOldest(freeRows, 0));
    for (const p of batch) q.insert(p.ts, p.enc.topic, p.enc.payload, p.enc.extra, p.enc.size);
    if (batch.length) q.persistLastId(batch[batch.length - 1].ts);
    if (o.overflow === 'drop-oldest') {
      const overRows = o.maxMessages > 0 ? q.count - o.maxMessages : 0;
      const overBytes = o.maxBytes > 0 ? q.bytes - o.maxBytes : 0;
      if (overRows > 0 || overBytes > 0) add(q.dropOldest(Math.max(0, overRows), Math.max(0, overBytes)));
    }
    return dropped;
  }

  /** ENOSPC: commit acknowledgements first (they free pages), then make room (drop-oldest) or store what fits. */
  private onFullDisk(batch: Pending[], deletes: Array<[number, number]>, dead: DeadRange[], attempts: Array<[number, number]>, err: any): void {
    const h = this.host;
    const q = h.queue;
    const first = !this.diskFull;
    this.diskFull = true;
    if (first) {
      this.fullAt = q.count;
      try { q.keepHeadroom(); } catch { /* best effort */ }
      h.changed();
    }
    if (deletes.length || dead.length || attempts.length) {
      try {
        h.delivered(q.transaction(() => this.writeAcks(deletes, dead, attempts)));
      } catch {
        // not even a delete fits: keep the acknowledgements and write them when space is back
        this.restore([], deletes, dead, attempts);
        this.retryLater();
      }
    }
    let stored = 0;
    if (h.opts.overflow === 'drop-oldest' && batch.length) {
      const base = Math.max(100, batch.length * 2);
      for (let free = base; free <= base * 8; free *= 2) {
        const firstId = q.lastId + 1;
        try {
          const dropped = q.transaction(() => {
            const d = this.insertRows(batch, free);
            q.persistCount();
            return d;
          });
          h.acct.drop('disk-full', dropped.count);
          if (dropped.through) h.gone(dropped.through);
          if (first) {
            h.acct.report(`store-forward: disk full (${err.code}); dropping the oldest messages to make room (counted in drops.disk-full)`);
            h.acct.prime('disk-full');
          } else h.acct.limited('disk-full', `store-forward: disk still full; ${h.acct.drops['disk-full']} messages dropped so far`, 60000, 'warn');
          h.committed(batch, firstId);
          return;
        } catch (e2: any) {
          if (!isDiskFull(e2) || q.count === 0) break;
        }
      }
    }
    // store what still fits, oldest first, in shrinking groups; the rest is dropped and counted
    for (let chunk = Math.max(1, Math.ceil(batch.length / 8)); stored < batch.length; ) {
      const part = batch.slice(stored, stored + chunk);
      const firstId = q.lastId + 1;
      try {
        q.transaction(() => {
          this.insertRows(part, 0);
          q.persistCount();
        });
        h.committed(part, firstId);
        stored += part.length;
      } catch (e2: any) {
        if (!isDiskFull(e2) || chunk === 1) break;
        chunk = Math.max(1, Math.floor(chunk / 4));
      }
    }
    const refused = batch.length - stored;
    if (first) {
      h.acct.report(`store-forward: disk full (${err.code}); new messages that do not fit are dropped and counted in drops.disk-full until space is back`);
      h.acct.prime('disk-full');
    }
    if (!refused) return;
    h.acct.drop('disk-full', refused);
    if (!first) h.acct.limited('disk-full', `store-forward: disk still full; ${h.acct.drops['disk-full']} messages dropped so far`, 60000, 'warn');
    for (let i = stored; i < batch.length; i++) batch[i].cb(null, 'disk-full');
  }
}
