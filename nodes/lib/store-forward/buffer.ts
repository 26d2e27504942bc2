// The store-and-forward engine: accepts messages into grouped durable commits (writer.ts), forwards them
// (pump.ts), and settles the rows an answer proves it carried (ledger.ts). Plain TypeScript: the Node-RED node
// only turns Outgoing into messages and msg.delivery into answer().
import { openQueue, moveAside, isCorrupt, OpenResult, QueueOptions, SqliteQueue } from './queue';
import { carryOver } from './recover';
import { decodeExtra, decodePayload, encodeMessage, EncodedMessage } from './codec';
import { Metrics, RateMeter } from './metrics';
import { Ledger, Rejection } from './ledger';
import { Accounting } from './accounting';
import { AcceptClock, systemMonotonic } from './expiry';
import { Pump } from './pump';
import { Settler } from './answers';
import { Pending, Writer } from './writer';
import type { AcceptCallback, BufferHooks, BufferOptions, BufferState, Item, Outgoing, Reply } from './types';

export * from './types';

export const defaultBufferOptions: BufferOptions = {
  maxMessages: 1000000,
  maxBytes: 0,
  overflow: 'drop-oldest',
  ttlMs: 0,
  maxInFlight: 100,
  maxInFlightReadings: 20000,
  ackTimeoutMs: 30000,
  replayRate: 5000,
  order: 'fifo',
  replayBatchSize: 100,
  retryMinMs: 1000,
  retryMaxMs: 60000,
  maxAttempts: 10,
  commitMaxRows: 5000,
  memoryMaxMessages: 10000,
  storeProperties: [],
};

function isBatchable(payload: unknown, extra: unknown): boolean {
  return extra === undefined && payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload);
}

export class StoreForwardBuffer {
  queue: SqliteQueue;
  readonly opts: BufferOptions;
  /** set when a corrupt file was moved aside (at open, or later) */
  readonly opened: OpenResult;
  readonly ledger = new Ledger();
  readonly acct: Accounting;
  closed = false;
  private hooks: BufferHooks;
  private queueOpts: QueueOptions;
  private clock: AcceptClock;
  private mono: () => number;
  private writer: Writer;
  private pump: Pump;
  private settler: Settler;
  private sweepTimer: NodeJS.Timeout | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;

  private accepted = 0;
  private deliveredRows = 0;
  private meter = new RateMeter();

  constructor(queueOpts: QueueOptions, opts: Partial<BufferOptions>, hooks: BufferHooks) {
    this.opts = { ...defaultBufferOptions, ...opts };
    this.hooks = hooks;
    this.queueOpts = queueOpts;
    this.mono = this.opts.monotonic ?? systemMonotonic;
    this.acct = new Accounting((text, level) => this.hooks.fault?.(text, level), () => this.mono());
    this.opened = openQueue(queueOpts);
    this.queue = this.opened.queue;
    if (this.opened.lost) this.acct.drop('corrupt', this.opened.lost);
    this.clock = new AcceptClock(this.queue.lastTs(), this.mono);
    this.writer = new Writer(this);
    this.pump = new Pump(this);
    this.settler = new Settler({ ledger: this.ledger, acct: this.acct, writer: this.writer, pump: this.pump, opts: this.opts, mono: () => this.now(), changed: () => this.changed() });
    const sweepMs = Math.max(20, Math.min(1000, Math.floor(this.opts.ackTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.settler.sweepTimeouts(), sweepMs);
    this.sweepTimer.unref?.();
    if (this.opts.ttlMs > 0) {
      const ttlEvery = Math.max(20, Math.min(60000, Math.floor(this.opts.ttlMs / 4)));
      this.ttlTimer = setInterval(() => this.expire(), ttlEvery);
      this.ttlTimer.unref?.();
    }
    this.pump.schedule();
  }

  /** Accept-time clock: epoch ms that only the monotonic clock moves. */
  now(): number {
    return this.clock.now();
  }

  // ---------------------------------------------------------------- accepting

  /** Stores a message; cb runs once it is committed (or refused, or dropped by the overflow policy). */
  accept(msg: Record<string, any>, cb: AcceptCallback): void {
    if (this.closed) return cb(new Error('store-forward buffer is closed'));
    let enc: EncodedMessage;
    try {
      enc = encodeMessage(msg, this.opts.storeProperties);
    } catch (err: any) {
      return cb(err);
    }
    const o = this.opts;
    if (o.maxBytes && enc.size > o.maxBytes) {
      return cb(new Error(`message of ${enc.size} bytes is larger than maxBytes (${o.maxBytes})`));
    }
    const w = this.writer;
    if (o.overflow === 'drop-newest' && this.full(enc.size)) {
      this.acct.drop('overflow', 1);
      return cb(null, 'overflow');
    }
    if (w.storeError && w.pending.length >= o.memoryMaxMessages) {
      // the file cannot be written and memory holds its bound: the overflow policy decides which message goes
      this.acct.drop('overflow', 1);
      if (o.overflow === 'drop-newest') return cb(null, 'overflow');
      w.shiftOldest()?.cb(null, 'overflow');
    }
    w.add({ enc, ts: this.now(), payload: msg.payload, cb });
  }

  private full(size: number): boolean {
    const o = this.opts;
    const w = this.writer;
    return (o.maxMessages > 0 && this.queue.count + w.pending.length + 1 > o.maxMessages) ||
      (o.maxBytes > 0 && this.queue.bytes + w.pendingBytes + size > o.maxBytes);
  }

  /** Commits what waits now (otherwise it is committed on the next tick). */
  commit(): void {
    this.writer.commit();
  }

  // ---------------------------------------------------------------- host callbacks (writer, pump)

  committed(batch: Pending[], firstId: number): void {
    this.accepted += batch.length;
    const items: Item[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const extra = p.enc.extra ? decodeExtra(p.enc.extra) : undefined;
      items[i] = { id: firstId + i, topic: p.enc.topic, payload: p.payload, extra, batchable: isBatchable(p.payload, extra) };
    }
    this.pump.committed(items);
    for (const p of batch) p.cb(null);
  }

  delivered(rows: number): void {
    this.deliveredRows += rows;
  }

  gone(through: number): void {
    this.pump.gone(through);
  }

  forward(out: Outgoing): void {
    this.hooks.forward(out);
  }

  deadLetter(id: number, error: string): void {
    this.writer.deadLetter(id, id, error);
    this.writer.schedule();
  }

  changed(): void {
    this.hooks.changed?.();
  }

  /** A read or maintenance operation failed: a corrupt file is replaced, anything else reported at a bounded rate. */
  storeFailed(what: string, err: any): void {
    if (isCorrupt(err)) return this.corrupt(err);
    this.acct.storeErrors++;
    this.acct.limited(`store:${what}`, `store-forward: ${what} failed (${err?.code ?? 'error'}: ${err?.message ?? err}); retrying`);
  }

  /** The open file turned out corrupt: quarantine it, carry over what can be read, start a fresh one. */
  corrupt(err: any): void {
    const file = this.queue.path;
    const known = this.queue.count;
    try { this.queue.close(); } catch { /* it is broken anyway */ }
    let where: string;
    try {
      where = moveAside(file);
      this.queue = openQueue(this.queueOpts).queue;
    } catch (e: any) {
      // no file to write to: input waits in memory up to its bound (then the overflow policy), counted
      this.writer.storeError = `database ${file} is corrupt and no fresh one could be started: ${e.message}`;
      this.acct.report(`store-forward: ${this.writer.storeError}`);
      this.changed();
      return;
    }
    const { carried } = carryOver(where, this.queue);
    const lost = Math.max(0, known - carried);
    this.acct.drop('corrupt', lost);
    Object.assign(this.opened, { movedAside: where, corruptReason: String(err.message), carried, lost });
    // everything in flight named rows of the old file: a new token makes their answers prove nothing
    this.ledger.reset();
    this.pump.restart();
    this.acct.report(`store-forward: database ${file} is corrupt (${err.message}); moved it to ${where}, carried ${carried} messages over to a fresh one, ${lost} could not be read (counted in drops.corrupt)`);
    this.changed();
    this.writer.schedule();
    this.pump.schedule();
  }

  // ---------------------------------------------------------------- answers

  /**
   * The cloud's answer (msg.delivery coming back). It settles rows only with this instance's token, a seq in
   * flight and exactly the ids sent; returns null when applied, else why it changed nothing (counted).
   */
  answer(r: Reply): Rejection | null {
    return this.closed ? null : this.settler.answer(r);
  }

  /** Same as answer(), for callers that do not need the verdict. */
  reply(r: Reply): void {
    this.answer(r);
  }

  /** Deletes rows older than ttlMs (by their accept time) and counts them. Never throws. */
  expire(): void {
    if (!this.queue.isOpen || this.opts.ttlMs <= 0) return;
    const cutoff = this.now() - this.opts.ttlMs;
    const q = this.queue;
    try {
      let n: number;
      do {
        const r = q.transaction(() => {
          const x = q.expireBefore(cutoff, 10000);
          if (x.count) q.persistCount();
          return x;
        });
        n = r.count;
        this.acct.drop('ttl', r.count);
        if (r.through) this.pump.gone(r.through);
      } while (n === 10000);
    } catch (err: any) {
      this.storeFailed('expiring old messages', err);
    }
  }

  // ---------------------------------------------------------------- control

  pause(): void {
    this.pump.paused = true;
    this.changed();
  }

  resume(): void {
    this.pump.paused = false;
    this.changed();
    this.pump.schedule();
  }

  /** Forward now: resume and skip any retry wait. */
  flush(): void {
    this.pump.paused = false;
    if (this.pump.waiting) this.pump.waitUntil = 0;
    this.writer.commit();
    this.changed();
    this.pump.schedule();
  }

  readDeadLetters(afterId = 0, limit = 100): Array<Record<string, unknown>> {
    return this.queue.readDeadLetters(afterId, limit).map((r) => ({
      id: r.id, ts: r.ts, topic: r.topic ?? undefined, payload: decodePayload(r.payload), extra: decodeExtra(r.extra),
      attempts: r.attempts, error: r.error, deadAt: r.deadAt,
    }));
  }

  requeueDeadLetters(limit = 1000): number {
    const n = this.queue.requeueDeadLetters(limit);
    this.pump.schedule();
    return n;
  }

  purgeDeadLetters(): number {
    return this.queue.purgeDeadLetters();
  }

  /** Call about once a second: feeds the delivered/s figure. */
  tick(): void {
    this.meter.sample(this.deliveredRows);
  }

  get state(): BufferState {
    const p = this.pump;
    return p.paused ? 'paused' : p.waiting || p.probing ? 'waiting' : 'forwarding';
  }

  metrics(): Metrics {
    const q = this.queue;
    let oldest: number | null = null;
    try { oldest = q.isOpen ? q.oldestTs() : null; } catch { /* reported elsewhere */ }
    const a = this.acct;
    return {
      state: this.state,
      backlog: this.backlog,
      bytes: q.bytes,
      oldestAgeMs: oldest === null ? 0 : Math.max(0, this.now() - oldest),
      inFlight: this.ledger.size,
      inFlightMessages: this.ledger.rows,
      accepted: this.accepted,
      delivered: this.deliveredRows,
      deliveredReadings: this.settler.deliveredReadings,
      deliveredPerSec: this.meter.rate(this.deliveredRows),
      failures: this.settler.failures,
      timeouts: this.settler.timeouts,
      drops: { ...a.drops },
      dropped: a.dropped,
      deadLetters: q.deadLetters,
      rejectedAnswers: a.rejectedTotal,
      rejected: { ...a.rejected },
      storeErrors: a.storeErrors,
      heldInMemory: this.writer.storeError ? this.writer.pending.length : 0,
      diskFull: this.writer.diskFull,
      storeError: this.writer.storeError,
      lastError: a.lastError,
      dbPath: q.path,
      fileBytes: q.isOpen ? q.fileBytes() : 0,
      engine: q.engine,
    };
  }

  get backlog(): number {
    return this.queue.count + this.writer.pending.length;
  }

  get isDiskFull(): boolean {
    return this.writer.diskFull;
  }

  get storeError(): string | null {
    return this.writer.storeError;
  }

  /** Commits what is pending and closes the file; rows in flight stay stored and are sent again next time. */
  close(): void {
    if (this.closed) return;
    try {
      this.writer.commit();
    } finally {
      this.closed = true;
      this.pump.stop();
      this.writer.stop();
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      if (this.ttlTimer) clearInterval(this.ttlTimer);
      const left = this.writer.pending;
      this.writer.pending = [];
      for (const p of left) p.cb(new Error('store-forward buffer closed before the message was stored'));
      this.queue.close();
    }
  }
}
