// The store-and-forward engine: grouped durable commits, then a paced, acknowledged delivery loop.
// Plain TypeScript: the Node-RED node only turns Outgoing into messages and replies into reply().
import { openQueue, moveAside, isCorrupt, isDiskFull, OpenResult, QueueOptions, RawRow, SqliteQueue, Removed } from './queue';
import { TokenBucket } from './token-bucket';
import { Backoff } from '../common/backoff';
import { decodeExtra, decodePayload, encodeMessage, EncodedMessage } from './codec';
import { DropReason, Metrics, RateMeter } from './metrics';

export type Overflow = 'drop-oldest' | 'drop-newest';
export type BufferState = 'forwarding' | 'waiting' | 'paused';

export type DeliveryOrder = 'fifo' | 'live-first';

export interface BufferOptions {
  /** 0 = no limit */
  maxMessages: number;
  /** 0 = no limit */
  maxBytes: number;
  overflow: Overflow;
  /** 0 = keep forever */
  ttlMs: number;
  /** forwarded messages (single or batch) awaiting an answer */
  maxInFlight: number;
  /** readings in those messages awaiting an answer, 0 = no limit; what sits downstream unanswered only adds latency */
  maxInFlightReadings: number;
  ackTimeoutMs: number;
  /** stored messages per second during replay, 0 = unlimited */
  replayRate: number;
  /** 'fifo': live data waits until the backlog has gone, so every sensor's readings reach the cloud in order;
   *  'live-first': live data keeps half the in-flight slots during a replay and may overtake the backlog */
  order: DeliveryOrder;
  /** stored messages combined into one replay message */
  replayBatchSize: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** commit at once when this many messages wait (otherwise once per tick) */
  commitMaxRows: number;
  storeProperties: string[];
}

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
  commitMaxRows: 5000,
  storeProperties: [],
};

/** One message to forward: a stored message, or a replay batch of several. */
export interface Outgoing {
  seq: number;
  ids: number[];
  attempt: number;
  batch: boolean;
  topic?: string;
  payload: unknown;
  extra?: Record<string, unknown>;
  readings: number;
}

export interface Reply {
  seq?: number;
  ids?: number[];
  ok: boolean;
  permanent?: boolean;
  error?: string;
  retryAfterMs?: number;
}

export interface BufferHooks {
  forward(out: Outgoing): void;
  /** faults the user must see (disk full, corrupt file); the node routes them to node.error */
  fault?(text: string): void;
  /** state or backlog changed noticeably (status refresh) */
  changed?(): void;
}

export type AcceptCallback = (err?: Error | null, dropped?: DropReason) => void;

interface Pending {
  enc: EncodedMessage;
  ts: number;
  payload: unknown;
  cb: AcceptCallback;
}

interface Item {
  id: number;
  ts: number;
  topic: string | null;
  payload: unknown;
  extra?: Record<string, unknown>;
  attempts: number;
  /** can share a batch: an object/array payload and no extra properties */
  batchable: boolean;
}

interface Send {
  seq: number;
  epoch: number;
  ids: number[];
  ranges: Array<[number, number]>;
  readings: number;
  sentAt: number;
  live: boolean;
  probe: boolean;
}

const NO_RANGES: Array<[number, number]> = [];

function rangesOf(ids: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const id of ids) {
    const last = out[out.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** Rows read for one send: the ids that travel together and their JSON texts, or one row to send alone. */
interface Collected {
  cursor: number;
  ids: number[];
  /** each row's JSON, an array's elements without the brackets (empty arrays leave nothing) */
  parts: string[];
  /** the rows' common topic; null when they differ */
  topic: string | null | undefined;
  attempts: number;
  first: RawRow | null;
  alone: RawRow | null;
}

/** A stored row's readings as JSON text to join into a batch array, or null when it must travel alone. */
function batchText(r: RawRow): string | null {
  const p = r[2];
  if (r[3] !== null || typeof p !== 'string') return null;
  const c = p.charCodeAt(0);
  if (c === 123) return p; // '{'
  if (c === 91) return p.length > 2 ? p.slice(1, -1) : ''; // '[': its elements join the flat batch
  return null;
}

function isBatchable(payload: unknown, extra: unknown): boolean {
  return extra === undefined && payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload);
}

export class StoreForwardBuffer {
  queue: SqliteQueue;
  readonly opts: BufferOptions;
  /** set when a corrupt file was moved aside at open */
  readonly opened: OpenResult;
  private hooks: BufferHooks;
  private queueOpts: QueueOptions;

  private pending: Pending[] = [];
  private pendingBytes = 0;
  private pendingDeletes: Array<[number, number]> = [];
  private pendingDead: Array<{ lo: number; hi: number; error: string }> = [];
  private pendingAttempts: Array<[number, number]> = [];
  private commitScheduled = false;
  private pumpScheduled = false;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpTimerAt = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private inFlight = new Map<number, Send>();
  /** stored messages inside the forwarded messages awaiting an answer */
  private inFlightRows = 0;
  private liveInFlight = 0;
  private inFlightReadings = 0;
  /** rows sent alone after their batch was refused for good, to find the one the cloud rejects */
  private splitIds = new Set<number>();
  private seq = 0;
  private epoch = 1;
  private probeSeq = 0;
  private probing = false;
  private paused = false;
  private waiting = false;
  private waitUntil = 0;
  private backoff: Backoff;
  private bucket: TokenBucket;

  /** replay lane: ids in (replayCursor, liveFloor]; live lane: ids above liveCursor */
  private replayCursor = 0;
  private liveFloor: number;
  private liveCursor: number;
  /** recently committed rows, so live forwarding does not read them back from disk */
  private tail: Item[] = [];
  private tailHead = 0;
  /** every row up to this id was dropped (overflow, ttl), so the live lane must not send it from memory */
  private goneThrough = 0;

  private accepted = 0;
  private delivered = 0;
  private deliveredReadings = 0;
  private failures = 0;
  private timeouts = 0;
  private drops: Record<DropReason, number> = { overflow: 0, 'disk-full': 0, ttl: 0 };
  private diskFull = false;
  private lastError: string | null = null;
  private meter = new RateMeter();

  constructor(queueOpts: QueueOptions, opts: Partial<BufferOptions>, hooks: BufferHooks) {
    this.opts = { ...defaultBufferOptions, ...opts };
    this.hooks = hooks;
    this.queueOpts = queueOpts;
    this.opened = openQueue(queueOpts);
    this.queue = this.opened.queue;
    this.liveFloor = this.queue.lastId;
    this.liveCursor = this.liveFloor;
    this.backoff = new Backoff(this.opts.retryMinMs, this.opts.retryMaxMs);
    this.bucket = new TokenBucket(this.opts.replayRate, Math.max(1, this.opts.replayBatchSize));
    const sweepMs = Math.max(20, Math.min(1000, Math.floor(this.opts.ackTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.sweepTimeouts(), sweepMs);
    this.sweepTimer.unref?.();
    if (this.opts.ttlMs > 0) {
      const ttlEvery = Math.max(20, Math.min(60000, Math.floor(this.opts.ttlMs / 4)));
      this.ttlTimer = setInterval(() => this.expire(), ttlEvery);
      this.ttlTimer.unref?.();
    }
    this.schedulePump();
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
    if (this.opts.maxBytes && enc.size > this.opts.maxBytes) {
      return cb(new Error(`message of ${enc.size} bytes is larger than maxBytes (${this.opts.maxBytes})`));
    }
    if (this.opts.overflow === 'drop-newest' && this.full(enc.size)) {
      this.drops.overflow++;
      return cb(null, 'overflow');
    }
    this.pending.push({ enc, ts: Date.now(), payload: msg.payload, cb });
    this.pendingBytes += enc.size;
    if (this.pending.length >= this.opts.commitMaxRows) this.commit();
    else this.scheduleCommit();
  }

  private full(size: number): boolean {
    const o = this.opts;
    return (o.maxMessages > 0 && this.queue.count + this.pending.length + 1 > o.maxMessages) ||
      (o.maxBytes > 0 && this.queue.bytes + this.pendingBytes + size > o.maxBytes);
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }

  /** One transaction for everything waiting: new rows, acknowledged deletes, dead letters, attempt counts. */
  commit(): void {
    if (!this.queue.isOpen) return;
    const batch = this.pending;
    const deletes = this.pendingDeletes;
    const dead = this.pendingDead;
    const attempts = this.pendingAttempts;
    if (!batch.length && !deletes.length && !dead.length && !attempts.length) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingDeletes = [];
    this.pendingDead = [];
    this.pendingAttempts = [];
    const firstId = this.queue.lastId + 1;
    let removed: { delivered: number; overflow: Removed };
    try {
      removed = this.queue.transaction(() => {
        const r = this.writeAcks(deletes, dead, attempts);
        return { delivered: r, overflow: this.insertRows(batch, 0) };
      });
    } catch (err: any) {
      if (isDiskFull(err)) return this.commitOnFullDisk(batch, deletes, dead, attempts, err);
      if (isCorrupt(err)) return this.recoverCorrupt(err, batch);
      this.report(`store-forward: commit failed: ${err.message}`);
      for (const p of batch) p.cb(err);
      return;
    }
    this.delivered += removed.delivered;
    this.drops.overflow += removed.overflow.count;
    this.dropped(removed.overflow);
    if (this.diskFull) {
      this.diskFull = false;
      this.hooks.changed?.();
    }
    this.committed(batch, firstId);
  }

  private writeAcks(deletes: Array<[number, number]>, dead: Array<{ lo: number; hi: number; error: string }>, attempts: Array<[number, number]>): number {
    let delivered = 0;
    const now = Date.now();
    for (const [lo, hi] of deletes) delivered += this.queue.deleteRange(lo, hi).count;
    for (const d of dead) this.queue.deadLetter(d.lo, d.hi, d.error, now);
    for (const [lo, hi] of attempts) this.queue.markAttempt(lo, hi);
    return delivered;
  }

  /** Inserts the batch; with drop-oldest, trims the oldest rows past the bounds. Returns what was dropped. */
  private insertRows(batch: Pending[], freeRows: number): Removed {
    const q = this.queue;
    const dropped: Removed = { count: 0, bytes: 0, through: 0 };
    const add = (r: Removed) => {
      dropped.count += r.count;
      dropped.bytes += r.bytes;
      dropped.through = Math.max(dropped.through ?? 0, r.through ?? 0);
    };
    if (freeRows > 0) add(q.dropOldest(freeRows, 0));
    for (const p of batch) q.insert(p.ts, p.enc.topic, p.enc.payload, p.enc.extra, p.enc.size);
    if (batch.length) q.persistLastId();
    const o = this.opts;
    if (o.overflow === 'drop-oldest') {
      const overRows = o.maxMessages > 0 ? q.count - o.maxMessages : 0;
      const overBytes = o.maxBytes > 0 ? q.bytes - o.maxBytes : 0;
      if (overRows > 0 || overBytes > 0) add(q.dropOldest(Math.max(0, overRows), Math.max(0, overBytes)));
    }
    return dropped;
  }

  /** Called after a commit that deleted the oldest rows. */
  private dropped(r: Removed): void {
    if (r.through && r.through > this.goneThrough) this.goneThrough = r.through;
  }

  private commitOnFullDisk(batch: Pending[], deletes: Array<[number, number]>, dead: Array<{ lo: number; hi: number; error: string }>, attempts: Array<[number, number]>, err: any): void {
    const firstTry = !this.diskFull;
    this.diskFull = true;
    // deletes free pages, so commit the acknowledgements on their own first
    try {
      this.delivered += this.queue.transaction(() => this.writeAcks(deletes, dead, attempts));
    } catch { /* nothing more can be written; those rows will simply be sent again */ }
    const firstId = this.queue.lastId + 1;
    if (this.opts.overflow === 'drop-oldest' && batch.length) {
      for (let free = Math.max(100, batch.length * 2); free <= Math.max(100, batch.length * 2) * 8; free *= 2) {
        try {
          const dropped = this.queue.transaction(() => this.insertRows(batch, free));
          this.drops['disk-full'] += dropped.count;
          this.dropped(dropped);
          if (firstTry) this.report(`store-forward: disk full (${err.code}); dropped the ${dropped.count} oldest messages to make room`);
          this.committed(batch, firstId);
          return;
        } catch (e2: any) {
          if (!isDiskFull(e2) || this.queue.count === 0) break;
        }
      }
    }
    // store what still fits, oldest first, in shrinking groups; refuse the rest
    let stored = 0;
    for (let chunk = Math.max(1, Math.ceil(batch.length / 8)); stored < batch.length; ) {
      const part = batch.slice(stored, stored + chunk);
      const first = this.queue.lastId + 1;
      try {
        this.queue.transaction(() => this.insertRows(part, 0));
        this.committed(part, first);
        stored += part.length;
      } catch (e2: any) {
        if (!isDiskFull(e2) || chunk === 1) break;
        chunk = Math.max(1, Math.floor(chunk / 4));
      }
    }
    const refused = batch.slice(stored);
    if (!refused.length) return;
    this.drops['disk-full'] += refused.length;
    this.report(`store-forward: disk full (${err.code}); ${refused.length} new messages were not stored (${this.opts.overflow})`);
    const e = new Error(`store-forward: disk full, message not stored (${err.code})`);
    for (const p of refused) p.cb(e);
    this.hooks.changed?.();
  }

  private recoverCorrupt(err: any, batch: Pending[]): void {
    const file = this.queue.path;
    try { this.queue.close(); } catch { /* it is broken anyway */ }
    let where = '';
    try { where = moveAside(file); } catch (e: any) { where = `(could not move it: ${e.message})`; }
    this.opened.movedAside = where;
    this.queue = openQueue(this.queueOpts).queue;
    // everything in flight referred to the old file
    this.inFlight.clear();
    this.inFlightRows = 0;
    this.liveInFlight = 0;
    this.inFlightReadings = 0;
    this.tail = [];
    this.tailHead = 0;
    this.replayCursor = 0;
    this.liveFloor = this.liveCursor = this.queue.lastId;
    this.report(`store-forward: database ${file} is corrupt (${err.message}); moved it to ${where} and started a fresh one`);
    this.pending = batch.concat(this.pending);
    this.commit();
  }

  private committed(batch: Pending[], firstId: number): void {
    this.accepted += batch.length;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const extra = p.enc.extra ? decodeExtra(p.enc.extra) : undefined;
      this.tail.push({ id: firstId + i, ts: p.ts, topic: p.enc.topic, payload: p.payload, extra, attempts: 0, batchable: isBatchable(p.payload, extra) });
    }
    // a live lane far behind reads from disk instead; keep memory flat
    const excess = this.tail.length - this.tailHead - 20000;
    if (excess > 0) this.tailHead += excess;
    for (const p of batch) p.cb(null);
    if (batch.length) this.schedulePump();
  }

  // ---------------------------------------------------------------- forwarding

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pumpIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.pumpTimer && this.pumpTimerAt <= at) return;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimerAt = at;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, Math.max(1, ms));
  }

  get state(): BufferState {
    return this.paused ? 'paused' : this.waiting || this.probing ? 'waiting' : 'forwarding';
  }

  private pump(): void {
    if (this.closed || this.paused || !this.queue.isOpen) return;
    const now = Date.now();
    if (this.waiting) {
      if (now < this.waitUntil) return this.pumpIn(this.waitUntil - now);
      this.startProbe();
    }
    if (this.probing) {
      if (this.probeSeq) return;
      const s = this.sendReplay(now, true, Infinity) || this.sendLive(now, true, Infinity);
      if (s) return;
      this.recovered();
    }
    const max = this.opts.maxInFlight;
    const maxReadings = this.opts.maxInFlightReadings > 0 ? this.opts.maxInFlightReadings : Infinity;
    while (this.inFlight.size < max && this.inFlightReadings < maxReadings) {
      // a stored message is about one reading: size what is sent to the room left (one send may overshoot)
      const room = maxReadings - this.inFlightReadings;
      const replayPending = this.replayCursor < this.liveFloor;
      const liveShare = !replayPending ? max : this.opts.order === 'live-first' ? Math.max(1, Math.ceil(max / 2)) : 0;
      let sent = this.liveInFlight < liveShare && this.sendLive(now, false, room);
      if (!sent && replayPending) sent = this.sendReplay(now, false, room);
      if (!sent) break;
    }
  }

  /** After a wait: rewind so the oldest undelivered rows go first; what arrived meanwhile is backlog. */
  private startProbe(): void {
    this.waiting = false;
    this.probing = true;
    this.probeSeq = 0;
    this.replayCursor = 0;
    this.liveFloor = this.queue.lastId;
    this.liveCursor = Math.max(this.liveCursor, this.liveFloor);
  }

  private recovered(): void {
    if (!this.probing) return;
    this.probing = false;
    this.probeSeq = 0;
    this.epoch++;
    this.backoff.reset();
    this.hooks.changed?.();
  }

  /**
   * Reads up to `want` stored rows after `cursor` (up to maxId) that can travel together. The batch payload is
   * built from the stored JSON texts with one parse, so no object per row is made on the way.
   */
  private collect(cursor: number, maxId: number, want: number, skipInFlight: boolean): Collected {
    const c: Collected = { cursor, ids: [], parts: [], topic: undefined, attempts: 0, first: null, alone: null };
    let mixed = false;
    // in-flight rows this read could meet (normally none: only after a rewind); a per-id set churned large tables
    const busy = skipInFlight ? this.inFlightRanges(cursor, maxId) : NO_RANGES;
    let b = 0;
    while (c.ids.length < want && c.cursor < maxId) {
      const limit = want - c.ids.length + (skipInFlight ? 16 : 0);
      const page = this.queue.readRaw(c.cursor, maxId, limit);
      if (!page.length) {
        c.cursor = maxId;
        break;
      }
      for (const r of page) {
        const id = r[0];
        if (busy.length) {
          while (b < busy.length && busy[b][1] < id) b++;
          if (b < busy.length && busy[b][0] <= id) {
            c.cursor = id;
            continue;
          }
        }
        const text = batchText(r);
        if (text === null || this.splitIds.has(id)) {
          // sent on its own: first in line, or left for the next send
          if (!c.ids.length) {
            c.alone = r;
            c.cursor = id;
          }
          return c;
        }
        if (!c.ids.length) {
          c.first = r;
          c.topic = r[1];
        } else if (!mixed && r[1] !== c.topic) {
          mixed = true;
          c.topic = null;
        }
        c.ids.push(id);
        if (text) c.parts.push(text);
        if (r[4] > c.attempts) c.attempts = r[4];
        c.cursor = id;
        if (c.ids.length >= want) return c;
      }
      if (page.length < limit) {
        // fewer rows than asked for: nothing else is stored up to maxId
        c.cursor = maxId;
        break;
      }
    }
    return c;
  }

  /** Oldest rows first, several per message, paced by the token bucket. */
  private sendReplay(now: number, probe: boolean, room: number): boolean {
    let want = Math.max(1, Math.min(this.opts.replayBatchSize, room));
    if (!this.bucket.unlimited) {
      const threshold = Math.min(want, Math.max(1, this.opts.replayRate));
      const avail = Math.floor(this.bucket.available(now));
      if (avail < threshold) {
        this.pumpIn(this.bucket.waitMs(threshold, now));
        return false;
      }
      want = Math.min(want, avail);
    }
    const c = this.collect(this.replayCursor, this.liveFloor, want, true);
    this.replayCursor = c.cursor;
    if (c.alone) {
      this.bucket.take(1, now);
      return this.sendRow(c.alone, false, probe, now);
    }
    if (!c.ids.length) return false;
    this.bucket.take(c.ids.length, now);
    return this.sendCollected(c, false, probe, now);
  }

  /** Rows committed since forwarding (re)started, as they come; in batches only when far behind. */
  private sendLive(now: number, probe: boolean, room: number): boolean {
    const lastId = this.queue.lastId;
    if (this.goneThrough > this.liveCursor) this.liveCursor = this.goneThrough;
    if (this.liveCursor >= lastId) return false;
    const behind = lastId - this.liveCursor;
    const want = behind > this.opts.replayBatchSize ? Math.max(1, Math.min(this.opts.replayBatchSize, room)) : 1;
    while (this.tailHead < this.tail.length && this.tail[this.tailHead].id <= this.liveCursor) this.tailHead++;
    if (this.tailHead < this.tail.length && this.tail[this.tailHead].id === this.liveCursor + 1) {
      const items: Item[] = [];
      while (items.length < want && this.tailHead < this.tail.length) {
        const it = this.tail[this.tailHead];
        if (items.length && !it.batchable) break;
        items.push(it);
        this.tailHead++;
        if (!it.batchable) break;
      }
      this.trimTail();
      this.liveCursor = items[items.length - 1].id;
      this.dispatch(items, items.length > 1, true, probe, now);
      return true;
    }
    this.trimTail();
    // a live lane far behind reads from disk
    const c = this.collect(this.liveCursor, lastId, want, false);
    this.liveCursor = c.cursor;
    if (c.alone) return this.sendRow(c.alone, true, probe, now);
    if (!c.ids.length) return false;
    if (c.ids.length === 1) return this.sendRow(c.first as RawRow, true, probe, now);
    return this.sendCollected(c, true, probe, now);
  }

  private trimTail(): void {
    if (this.tailHead > 4096 && this.tailHead * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  /** Registers a forwarded message as in flight; returns its seq. */
  private track(ids: number[], readings: number, live: boolean, probe: boolean, now: number): number {
    const seq = ++this.seq;
    const send: Send = { seq, epoch: this.epoch, ids, ranges: rangesOf(ids), readings, sentAt: now, live, probe };
    this.inFlightRows += ids.length;
    this.inFlight.set(seq, send);
    this.inFlightReadings += readings;
    if (live) this.liveInFlight++;
    if (probe) this.probeSeq = seq;
    return seq;
  }

  /** One stored row as its own message, payload as stored. */
  private sendRow(r: RawRow, live: boolean, probe: boolean, now: number): boolean {
    let payload: unknown;
    let extra: Record<string, unknown> | undefined;
    try {
      payload = decodePayload(r[2]);
      extra = decodeExtra(r[3]);
    } catch (err: any) {
      // unreadable row (should not happen): never send it, keep it for inspection
      this.pendingDead.push({ lo: r[0], hi: r[0], error: `stored message cannot be decoded: ${err.message}` });
      this.scheduleCommit();
      return true;
    }
    const ids = [r[0]];
    const readings = Array.isArray(payload) ? payload.length : 1;
    const seq = this.track(ids, readings, live, probe, now);
    this.hooks.forward({ seq, ids, attempt: r[4] + 1, batch: false, topic: r[1] ?? undefined, payload, extra, readings });
    return true;
  }

  /** Rows that travel together as one flat array of their readings. */
  private sendCollected(c: Collected, live: boolean, probe: boolean, now: number): boolean {
    let payload: unknown[];
    try {
      payload = JSON.parse('[' + c.parts.join(',') + ']');
    } catch {
      // one of them is unreadable: send these rows one by one, which finds it
      for (const id of c.ids) this.splitIds.add(id);
      this.rewindTo(c.ids[0], c.ids[c.ids.length - 1]);
      this.schedulePump();
      return false;
    }
    const seq = this.track(c.ids, payload.length, live, probe, now);
    this.hooks.forward({ seq, ids: c.ids, attempt: c.attempts + 1, batch: true, topic: c.topic ?? undefined, payload, readings: payload.length });
    return true;
  }

  /** Items kept in memory (the live tail) as one message. */
  private dispatch(items: Item[], batch: boolean, live: boolean, probe: boolean, now: number): void {
    const ids = items.map((i) => i.id);
    let attempt = 0;
    for (const it of items) attempt = Math.max(attempt, it.attempts);
    if (batch) {
      const payload: unknown[] = [];
      let topic: string | null | undefined = items[0].topic;
      for (const it of items) {
        if (Array.isArray(it.payload)) for (const p of it.payload) payload.push(p);
        else payload.push(it.payload);
        if (it.topic !== topic) topic = undefined;
      }
      const seq = this.track(ids, payload.length, live, probe, now);
      this.hooks.forward({ seq, ids, attempt: attempt + 1, batch: true, topic: topic ?? undefined, payload, readings: payload.length });
    } else {
      const it = items[0];
      const readings = Array.isArray(it.payload) ? it.payload.length : 1;
      const seq = this.track(ids, readings, live, probe, now);
      this.hooks.forward({ seq, ids, attempt: attempt + 1, batch: false, topic: it.topic ?? undefined, payload: it.payload, extra: it.extra, readings });
    }
  }

  // ---------------------------------------------------------------- answers

  /** The cloud's answer for a forwarded message (msg.delivery coming back). */
  reply(r: Reply): void {
    if (this.closed) return;
    const send = r.seq !== undefined ? this.inFlight.get(r.seq) : undefined;
    if (send) {
      this.release(send);
      if (r.ok) this.acked(send);
      else if (r.permanent) this.refused(send, r.error ?? 'refused by the cloud');
      else this.failed(send, r.error ?? 'delivery failed', r.retryAfterMs);
    } else if (Array.isArray(r.ids) && r.ids.length) {
      // a late or foreign answer: the cloud's word about these rows still counts
      const busy = this.inFlightRanges(-Infinity, Infinity);
      const ids = r.ids.filter((id) => Number.isSafeInteger(id) && !busy.some(([lo, hi]) => id >= lo && id <= hi)).sort((a, b) => a - b);
      if (ids.length) {
        if (r.ok) this.pendingDeletes.push(...rangesOf(ids));
        else if (r.permanent && ids.length === 1) this.pendingDead.push({ lo: ids[0], hi: ids[0], error: r.error ?? 'refused by the cloud' });
        else this.rewindTo(ids[0], ids[ids.length - 1]);
        this.scheduleCommit();
      }
    }
    this.schedulePump();
  }

  /** Id ranges of the messages in flight that overlap (after, upTo], sorted by first id. */
  private inFlightRanges(after: number, upTo: number): Array<[number, number]> {
    let out: Array<[number, number]> | null = null;
    for (const send of this.inFlight.values()) {
      for (const r of send.ranges) {
        if (r[1] > after && r[0] <= upTo) (out ??= []).push(r);
      }
    }
    if (!out) return NO_RANGES;
    return out.length > 1 ? out.sort((x, y) => x[0] - y[0]) : out;
  }

  private release(send: Send): void {
    this.inFlight.delete(send.seq);
    this.inFlightRows -= send.ids.length;
    if (send.live) this.liveInFlight--;
    this.inFlightReadings -= send.readings;
    if (send.seq === this.probeSeq) this.probeSeq = 0;
  }

  private acked(send: Send): void {
    for (const r of send.ranges) this.pendingDeletes.push(r);
    this.deliveredReadings += send.readings;
    if (this.splitIds.size) for (const id of send.ids) this.splitIds.delete(id);
    if (send.probe) this.recovered();
    this.scheduleCommit();
  }

  private refused(send: Send, error: string): void {
    if (send.ids.length > 1) {
      // find which reading the cloud refuses: retry these rows one by one
      for (const id of send.ids) this.splitIds.add(id);
      this.rewindTo(send.ids[0], send.ids[send.ids.length - 1]);
    } else {
      for (const [lo, hi] of send.ranges) this.pendingDead.push({ lo, hi, error });
      this.splitIds.delete(send.ids[0]);
      this.scheduleCommit();
    }
    // the cloud answered, so it is reachable
    if (send.probe) this.recovered();
    this.hooks.changed?.();
  }

  private failed(send: Send, error: string, retryAfterMs?: number): void {
    this.failures++;
    this.lastError = error;
    for (const r of send.ranges) this.pendingAttempts.push(r);
    this.scheduleCommit();
    this.rewindTo(send.ids[0], send.ids[send.ids.length - 1]);
    const wait = typeof retryAfterMs === 'number' && retryAfterMs > 0 ? retryAfterMs : 0;
    if (send.epoch === this.epoch && !this.waiting) {
      this.probing = false;
      this.probeSeq = 0;
      this.waiting = true;
      this.waitUntil = Date.now() + Math.max(this.backoff.next(), wait);
      this.hooks.changed?.();
    } else if (this.waiting && wait) {
      this.waitUntil = Math.max(this.waitUntil, Date.now() + wait);
    }
  }

  /** Failed rows go back to the replay lane so they are sent again, oldest first. */
  private rewindTo(minId: number, maxId: number): void {
    this.replayCursor = Math.min(this.replayCursor, minId - 1);
    this.liveFloor = Math.max(this.liveFloor, maxId);
    this.liveCursor = Math.max(this.liveCursor, this.liveFloor);
  }

  private sweepTimeouts(): void {
    const limit = Date.now() - this.opts.ackTimeoutMs;
    for (const send of this.inFlight.values()) {
      if (send.sentAt > limit) break;
      this.timeouts++;
      this.release(send);
      this.failed(send, `no answer within ackTimeoutMs (${this.opts.ackTimeoutMs} ms)`);
    }
    this.schedulePump();
  }

  private expire(): void {
    if (!this.queue.isOpen) return;
    const cutoff = Date.now() - this.opts.ttlMs;
    try {
      let r: Removed;
      do {
        r = this.queue.transaction(() => this.queue.expireBefore(cutoff, 10000));
        this.drops.ttl += r.count;
        this.dropped(r);
      } while (r.count === 10000);
    } catch (err: any) {
      this.report(`store-forward: expiring old messages failed: ${err.message}`);
    }
  }

  // ---------------------------------------------------------------- control

  pause(): void {
    this.paused = true;
    this.hooks.changed?.();
  }

  resume(): void {
    this.paused = false;
    this.hooks.changed?.();
    this.schedulePump();
  }

  /** Forward now: resume and skip any retry wait. */
  flush(): void {
    this.paused = false;
    if (this.waiting) this.waitUntil = 0;
    this.commit();
    this.hooks.changed?.();
    this.schedulePump();
  }

  readDeadLetters(afterId = 0, limit = 100): Array<Record<string, unknown>> {
    return this.queue.readDeadLetters(afterId, limit).map((r) => ({
      id: r.id, ts: r.ts, topic: r.topic ?? undefined, payload: decodePayload(r.payload), extra: decodeExtra(r.extra),
      attempts: r.attempts, error: r.error, deadAt: r.deadAt,
    }));
  }

  requeueDeadLetters(limit = 1000): number {
    const n = this.queue.requeueDeadLetters(limit);
    this.schedulePump();
    return n;
  }

  purgeDeadLetters(): number {
    return this.queue.purgeDeadLetters();
  }

  private report(text: string): void {
    this.lastError = text;
    this.hooks.fault?.(text);
  }

  /** Call about once a second: feeds the delivered/s figure. */
  tick(): void {
    this.meter.sample(this.delivered);
  }

  metrics(): Metrics {
    const q = this.queue;
    let oldest: number | null = null;
    try { oldest = q.isOpen ? q.oldestTs() : null; } catch { /* reported elsewhere */ }
    const now = Date.now();
    const dropped = this.drops.overflow + this.drops['disk-full'] + this.drops.ttl;
    return {
      state: this.state,
      backlog: q.count + this.pending.length,
      bytes: q.bytes,
      oldestAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
      inFlight: this.inFlight.size,
      inFlightMessages: this.inFlightRows,
      accepted: this.accepted,
      delivered: this.delivered,
      deliveredReadings: this.deliveredReadings,
      deliveredPerSec: this.meter.rate(this.delivered, now),
      failures: this.failures,
      timeouts: this.timeouts,
      drops: { ...this.drops },
      dropped,
      deadLetters: q.deadLetters,
      diskFull: this.diskFull,
      lastError: this.lastError,
      dbPath: q.path,
      fileBytes: q.isOpen ? q.fileBytes() : 0,
    };
  }

  get backlog(): number {
    return this.queue.count + this.pending.length;
  }

  get isDiskFull(): boolean {
    return this.diskFull;
  }

  /** Commits what is pending and closes the file; rows in flight stay stored and are sent again next time. */
  close(): void {
    if (this.closed) return;
    try {
      this.commit();
    } finally {
      this.closed = true;
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      if (this.ttlTimer) clearInterval(this.ttlTimer);
      const left = this.pending;
      this.pending = [];
      for (const p of left) p.cb(new Error('store-forward buffer closed before the message was stored'));
      this.queue.close();
    }
  }
}
