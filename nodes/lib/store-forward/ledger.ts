// The in-flight ledger: which rows each forwarded message carried, and the proof an answer must bring back.
// An answer settles rows only when it names this ledger's token, a seq still in flight and exactly that
// message's ids; anything else (late answers from an earlier instance, forged or malformed ones) changes nothing.
import crypto from 'crypto';

export interface Send {
  seq: number;
  ids: number[];
  ranges: Array<[number, number]>;
  readings: number;
  /** monotonic ms */
  sentAt: number;
  live: boolean;
  probe: boolean;
  /** highest stored attempt count among its rows when sent */
  attempts: number;
  /** the delivery round it belongs to (a round ends when the cloud is reached again after a wait) */
  epoch: number;
}

export type Rejection = 'malformed' | 'foreign-token' | 'unknown-seq' | 'ids-mismatch';

const NO_RANGES: Array<[number, number]> = [];

export function rangesOf(ids: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const id of ids) {
    const last = out[out.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** A token unique to one buffer instance: a new one on every start, redeploy and file recovery. */
export function newToken(): string {
  return crypto.randomBytes(9).toString('base64url');
}

export class Ledger {
  token = newToken();
  /** sends in the order they went out (Map keeps insertion order, so the oldest is first) */
  private sends = new Map<number, Send>();
  private seq = 0;
  rows = 0;
  readings = 0;
  live = 0;

  get size(): number {
    return this.sends.size;
  }

  has(seq: number): boolean {
    return this.sends.has(seq);
  }

  values(): IterableIterator<Send> {
    return this.sends.values();
  }

  add(ids: number[], readings: number, live: boolean, probe: boolean, attempts: number, epoch: number, now: number): Send {
    const send: Send = { seq: ++this.seq, ids, ranges: rangesOf(ids), readings, sentAt: now, live, probe, attempts, epoch };
    this.sends.set(send.seq, send);
    this.rows += ids.length;
    this.readings += readings;
    if (live) this.live++;
    return send;
  }

  remove(send: Send): void {
    if (!this.sends.delete(send.seq)) return;
    this.rows -= send.ids.length;
    this.readings -= send.readings;
    if (send.live) this.live--;
  }

  /** Forgets everything in flight and takes a new token (the rows it named are gone or renumbered). */
  reset(): void {
    this.sends.clear();
    this.rows = this.readings = this.live = 0;
    this.token = newToken();
  }

  /** The send an answer proves it carried, or why it proves nothing. Cheap on junk: bails out before reading long lists. */
  match(d: { token?: unknown; seq?: unknown; ids?: unknown }): Send | Rejection {
    if (typeof d.token !== 'string' || typeof d.seq !== 'number' || !Array.isArray(d.ids)) return 'malformed';
    if (d.token !== this.token) return 'foreign-token';
    const send = this.sends.get(d.seq);
    if (!send) return 'unknown-seq';
    const ids = d.ids as unknown[];
    if (ids.length !== send.ids.length) return 'ids-mismatch';
    for (let i = 0; i < ids.length; i++) if (ids[i] !== send.ids[i]) return 'ids-mismatch';
    return send;
  }

  /** Id ranges in flight that overlap (after, upTo], sorted by first id. */
  ranges(after: number, upTo: number): Array<[number, number]> {
    let out: Array<[number, number]> | null = null;
    for (const send of this.sends.values()) {
      for (const r of send.ranges) {
        if (r[1] > after && r[0] <= upTo) (out ??= []).push(r);
      }
    }
    if (!out) return NO_RANGES;
    return out.length > 1 ? out.sort((x, y) => x[0] - y[0]) : out;
  }
}
