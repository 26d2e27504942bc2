// The pump: decides what to forward next (live tail, or the replay lane read from disk), paces replay,
// waits after a failure and probes before forwarding at full rate again.
import type { RawRow } from './queue';
import { Backoff } from '../common/backoff';
import { TokenBucket } from './token-bucket';
import { decodeExtra, decodePayload } from './codec';
import type { Send } from './ledger';
import type { PumpHost, Item } from './types';
import { collect, Collected, SPLIT_AFTER } from './collect';

/** readings kept in memory for the live lane; a lane further behind reads from disk */
const TAIL_MAX = 20000;

export class Pump {
  /** replay lane: ids in (replayCursor, liveFloor]; live lane: ids above liveCursor */
  replayCursor = 0;
  liveFloor: number;
  liveCursor: number;
  /** every row up to this id was dropped (overflow, ttl), so the live lane must not send it from memory */
  goneThrough = 0;
  /** rows sent alone after their batch was refused for good, to find the one the cloud rejects */
  splitIds = new Set<number>();
  /**
   * The oldest row failed maxAttempts times. The next probe sends it ('head'); if it fails, the message behind it
   * goes out as the next probe ('companion'); if that gets through, the suspect gets one last try ('last') and
   * goes to the dead letters if it fails again. Both failing means an outage: nothing is dead-lettered.
   */
  suspect: { id: number; stage: 'head' | 'companion' | 'last'; companion: number } | null = null;
  /** seq of the last send */
  lastSeq = 0;
  epoch = 1;
  probing = false;
  probeSeq = 0;
  waiting = false;
  waitUntil = 0;
  paused = false;
  readonly backoff: Backoff;
  private bucket: TokenBucket;
  private tail: Item[] = [];
  private tailHead = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  constructor(private host: PumpHost) {
    const o = host.opts;
    this.liveFloor = this.liveCursor = host.queue.lastId;
    this.backoff = new Backoff(o.retryMinMs, o.retryMaxMs);
    this.bucket = new TokenBucket(o.replayRate, Math.max(1, o.replayBatchSize), host.now());
  }

  /** Starts over on a fresh file: nothing in flight, everything stored is backlog. */
  restart(): void {
    this.tail = [];
    this.tailHead = 0;
    this.replayCursor = 0;
    this.goneThrough = 0;
    this.suspect = null;
    this.splitIds.clear();
    this.liveFloor = this.liveCursor = this.host.queue.lastId;
  }

  /** Newly committed rows: the live lane sends them from memory while it keeps up (not during a wait or probe). */
  committed(items: Item[]): void {
    if (this.waiting || this.probing) {
      if (this.tail.length) {
        this.tail = [];
        this.tailHead = 0;
      }
    } else {
      for (const it of items) this.tail.push(it);
      const excess = this.tail.length - this.tailHead - TAIL_MAX;
      if (excess > 0) this.tailHead += excess;
      this.trimTail();
    }
    if (items.length) this.schedule();
  }

  gone(through: number): void {
    if (through > this.goneThrough) this.goneThrough = through;
    if (this.splitIds.size) for (const id of this.splitIds) if (id <= through) this.splitIds.delete(id);
  }

  schedule(): void {
    if (this.scheduled || this.host.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  in(ms: number): void {
    const at = this.host.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, Math.max(1, ms));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Never throws: a read error becomes a fault and a later retry. */
  run(): void {
    try {
      this.pump();
    } catch (err: any) {
      this.host.storeFailed('reading the backlog', err);
      this.in(1000);
    }
  }

  private pump(): void {
    const h = this.host;
    if (h.closed || this.paused || !h.queue.isOpen) return;
    const now = h.now();
    if (this.waiting) {
      if (now < this.waitUntil) return this.in(this.waitUntil - now);
      this.startProbe();
    }
    if (this.probing) {
      if (this.probeSeq) return;
      const sus = this.suspect;
      if (this.sendReplay(now, true, Infinity) || this.sendLive(now, true, Infinity)) {
        if (sus && sus.stage === 'companion') sus.companion = this.lastSeq;
        return;
      }
      if (sus && sus.stage === 'companion') {
        // nothing stored behind the suspect: it stays, and the buffer waits as after any failure
        this.suspect = null;
        this.rewindTo(sus.id, sus.id);
        this.probing = false;
        this.wait(0);
        return;
      }
      this.recovered();
    }
    const ledger = h.ledger;
    const max = h.opts.maxInFlight;
    const maxReadings = h.opts.maxInFlightReadings > 0 ? h.opts.maxInFlightReadings : Infinity;
    while (ledger.size < max && ledger.readings < maxReadings) {
      // a stored message is about one reading: size what is sent to the room left (one send may overshoot)
      const room = maxReadings - ledger.readings;
      const replayPending = this.replayCursor < this.liveFloor;
      const liveShare = !replayPending ? max : h.opts.order === 'live-first' ? Math.max(1, Math.ceil(max / 2)) : 0;
      let sent = ledger.live < liveShare && this.sendLive(now, false, room);
      if (!sent && replayPending) sent = this.sendReplay(now, false, room);
      if (!sent) break;
    }
  }

  /** After a failure: wait (backoff, or the cloud's retryAfterMs) unless this round already waits. */
  failedRound(send: Send, retryAfterMs: number): void {
    if (send.epoch === this.epoch && !this.waiting) this.wait(retryAfterMs);
    else if (this.waiting && retryAfterMs) this.waitUntil = Math.max(this.waitUntil, this.host.now() + retryAfterMs);
  }

  private wait(retryAfterMs: number): void {
    this.probing = false;
    this.probeSeq = 0;
    this.waiting = true;
    this.waitUntil = this.host.now() + Math.max(this.backoff.next(), retryAfterMs);
    this.tail = [];
    this.tailHead = 0;
    this.host.changed();
    this.in(this.waitUntil - this.host.now());
  }

  /** The suspect failed as the probe: send the message behind it as the next probe, without waiting. */
  probeBehind(id: number): void {
    this.probeSeq = 0;
    this.liveFloor = Math.max(this.liveFloor, id);
    this.liveCursor = Math.max(this.liveCursor, this.liveFloor);
    this.schedule();
  }

  /** After a wait: rewind so the oldest undelivered rows go first; what arrived meanwhile is backlog. */
  private startProbe(): void {
    this.waiting = false;
    this.probing = true;
    this.probeSeq = 0;
    this.replayCursor = 0;
    this.liveFloor = this.host.queue.lastId;
    this.liveCursor = Math.max(this.liveCursor, this.liveFloor);
    this.suspect = null;
    // the oldest row failed maxAttempts times: it goes out with a companion behind it (see suspect)
    const busy = this.host.ledger.ranges(0, this.liveFloor);
    const head = this.host.queue.readRaw(0, this.liveFloor, busy.length + 1).find((r) => !busy.some(([lo, hi]) => r[0] >= lo && r[0] <= hi));
    if (head && head[4] >= this.host.opts.maxAttempts) this.suspect = { id: head[0], stage: 'head', companion: 0 };
  }

  /** The probe was answered. */
  probeAnswered(send: Send, ok: boolean): void {
    if (send.seq === this.probeSeq) this.probeSeq = 0;
    if (ok) this.recovered();
  }

  recovered(): void {
    if (!this.probing) return;
    this.probing = false;
    this.probeSeq = 0;
    this.epoch++;
    this.backoff.reset();
    this.host.changed();
  }

  /** Failed rows go back to the replay lane so they are sent again, oldest first. */
  rewindTo(minId: number, maxId: number): void {
    this.replayCursor = Math.min(this.replayCursor, minId - 1);
    this.liveFloor = Math.max(this.liveFloor, maxId);
    this.liveCursor = Math.max(this.liveCursor, this.liveFloor);
  }

  /** Oldest rows first, several per message, paced by the token bucket. */
  private sendReplay(now: number, probe: boolean, room: number): boolean {
    const o = this.host.opts;
    let want = Math.max(1, Math.min(o.replayBatchSize, room));
    if (!this.bucket.unlimited) {
      const threshold = Math.min(want, Math.max(1, o.replayRate));
      const avail = Math.floor(this.bucket.available(now));
      if (avail < threshold) {
        this.in(this.bucket.waitMs(threshold, now));
        return false;
      }
      want = Math.min(want, avail);
    }
    const c = this.read(this.replayCursor, this.liveFloor, want, true);
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
    const lastId = this.host.queue.lastId;
    if (this.goneThrough > this.liveCursor) this.liveCursor = this.goneThrough;
    if (this.liveCursor >= lastId) return false;
    const behind = lastId - this.liveCursor;
    const want = behind > this.host.opts.replayBatchSize ? Math.max(1, Math.min(this.host.opts.replayBatchSize, room)) : 1;
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
      this.dispatch(items, items.length > 1, probe, now);
      return true;
    }
    this.trimTail();
    // a live lane far behind reads from disk
    const c = this.read(this.liveCursor, lastId, want, false);
    this.liveCursor = c.cursor;
    if (c.alone) return this.sendRow(c.alone, true, probe, now);
    if (!c.ids.length) return false;
    if (c.ids.length === 1) return this.sendRow(c.first as RawRow, true, probe, now);
    return this.sendCollected(c, true, probe, now);
  }

  private read(cursor: number, maxId: number, want: number, skipInFlight: boolean): Collected {
    const busy = skipInFlight ? this.host.ledger.ranges(cursor, maxId) : [];
    return collect(this.host.queue, cursor, maxId, want, busy, this.splitIds, Math.min(SPLIT_AFTER, this.host.opts.maxAttempts));
  }

  private trimTail(): void {
    if (this.tailHead > 4096 && this.tailHead * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private track(ids: number[], readings: number, live: boolean, probe: boolean, attempts: number, now: number): Send {
    const send = this.host.ledger.add(ids, readings, live, probe, attempts, this.epoch, now);
    if (probe) this.probeSeq = send.seq;
    this.lastSeq = send.seq;
    return send;
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
      this.host.deadLetter(r[0], `stored message cannot be decoded: ${err.message}`);
      return true;
    }
    const readings = Array.isArray(payload) ? payload.length : 1;
    const send = this.track([r[0]], readings, live, probe, r[4], now);
    this.host.forward({ seq: send.seq, token: this.host.ledger.token, ids: send.ids, attempt: r[4] + 1, batch: false, topic: r[1] ?? undefined, payload, extra, readings });
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
      this.schedule();
      return false;
    }
    const send = this.track(c.ids, payload.length, live, probe, c.attempts, now);
    this.host.forward({ seq: send.seq, token: this.host.ledger.token, ids: c.ids, attempt: c.attempts + 1, batch: true, topic: c.topic ?? undefined, payload, readings: payload.length });
    return true;
  }

  /** Items kept in memory (the live tail) as one message. */
  private dispatch(items: Item[], batch: boolean, probe: boolean, now: number): void {
    const ids = items.map((i) => i.id);
    const token = this.host.ledger.token;
    if (batch) {
      const payload: unknown[] = [];
      let topic: string | null | undefined = items[0].topic;
      for (const it of items) {
        if (Array.isArray(it.payload)) for (const p of it.payload) payload.push(p);
        else payload.push(it.payload);
        if (it.topic !== topic) topic = undefined;
      }
      const send = this.track(ids, payload.length, true, probe, 0, now);
      this.host.forward({ seq: send.seq, token, ids, attempt: 1, batch: true, topic: topic ?? undefined, payload, readings: payload.length });
    } else {
      const it = items[0];
      const readings = Array.isArray(it.payload) ? it.payload.length : 1;
      const send = this.track(ids, readings, true, probe, 0, now);
      this.host.forward({ seq: send.seq, token, ids, attempt: 1, batch: false, topic: it.topic ?? undefined, payload: it.payload, extra: it.extra, readings });
    }
  }
}
