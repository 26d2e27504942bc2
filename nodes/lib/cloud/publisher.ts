// The publisher's core: frames readings (single, replay batch, or batched across messages),
// splits by topic and byte limit, and answers every input exactly once with its delivery result.
import { OK, SendResult } from './errors';
import type { TopicFn } from './topic';
import type { Framing, Transport } from './transport';

export interface PublisherOptions {
  /** compiled topic template; null = use msg.topic */
  topic: TopicFn | null;
  qos: 0 | 1;
  /** readings batched across input messages; 1 = send each message on its own */
  batchMaxMessages: number;
  /** longest a reading waits for its batch to fill */
  batchMaxMs: number;
  /** largest message body on the wire; 0 = no limit. The broker's own maximum packet size (MQTT 5) applies too */
  batchMaxBytes: number;
  /** while more bodies wait than the link has room for, JSON bodies for one topic may leave as one array */
  mergeWhenBusy?: boolean;
}

export type Answer = (r: SendResult) => void;

/** One input message waiting for all the wire messages that carry its readings. */
class Tracker {
  failure: SendResult | null = null;
  ids: string[] | null = null;
  constructor(public remaining: number, public answer: Answer) {}

  part(r: SendResult) {
    if (!r.ok) this.failure = mergeFailure(this.failure, r);
    else if (r.ids) (this.ids ??= []).push(...r.ids);
    if (--this.remaining === 0) this.answer(this.failure ?? (this.ids ? { ok: true, ids: this.ids } : OK));
  }
}

/** Several failures for one input: permanent only if every part was refused for good. */
function mergeFailure(a: SendResult | null, b: SendResult): SendResult {
  if (!a) return { ...b };
  const r: SendResult = { ok: false, error: a.error ?? b.error };
  if (a.permanent && b.permanent) r.permanent = true;
  const ra = Math.max(a.retryAfterMs ?? -1, b.retryAfterMs ?? -1);
  if (ra >= 0) r.retryAfterMs = ra;
  return r;
}

interface Group {
  topic: string;
  parts: string[];
  bytes: number;
  owners: Tracker[];
  timer: NodeJS.Timeout | null;
}

function frameOpen(f: Framing) { return f === 'json' ? 1 : 0; }

/** Frames serialized readings as one wire body. */
export function frame(parts: string[], framing: Framing, asBatch: boolean): string {
  if (framing === 'ndjson') return parts.join('\n') + '\n';
  if (!asBatch && parts.length === 1) return parts[0];
  return '[' + parts.join(',') + ']';
}

// An upper bound first: most readings are far below the limit, so most need no byte count.
function byteLength(s: string): number {
  return Buffer.byteLength(s);
}

export class CloudPublisher {
  /** inputs answered ok / not ok, for the node's messages-per-second status */
  answeredOk = 0;
  answeredFailed = 0;
  /** readings carried in acknowledged wire messages */
  readingsDelivered = 0;
  private groups = new Map<string, Group>();
  /** a body size the far end refused (MQTT 5 reason 0x95) although no stated limit forbade it: stay below it */
  private learnedLimit = 0;
  private closed = false;
  private readonly onState = (s: string) => { if (s !== 'connected') this.flushAll(); };

  constructor(private readonly transport: Transport, private readonly o: PublisherOptions) {
    transport.on('state', this.onState);
  }

  private count(r: SendResult) {
    if (r.ok) this.answeredOk++;
    else this.answeredFailed++;
  }

  /** Takes one input message. Returns an error text for unusable input (then `answer` is not called). */
  submit(payload: unknown, msgTopic: unknown, answer: Answer): string | null {
    if (payload === undefined || payload === null) return 'msg.payload is missing';
    // HTTP needs no topic; MQTT needs the template or msg.topic; Pub/Sub takes the template or the endpoint's topic
    // (msg.topic there is the sensor id, never a Pub/Sub topic)
    const kind = this.transport.kind;
    const fallbackTopic = kind === 'pubsub' ? '' : typeof msgTopic === 'string' && msgTopic !== '' ? msgTopic : kind === 'http' ? '' : null;
    if (!this.o.topic && fallbackTopic === null) return 'no topic: set a topic template on the node or msg.topic';
    const refusal = this.transport.refusal();
    if (refusal) {
      this.answeredFailed++;
      answer(refusal);
      return null;
    }
    if (Array.isArray(payload)) return this.submitArray(payload, fallbackTopic, this.counted(answer));
    let body: string | Buffer;
    if (typeof payload === 'object' && !Buffer.isBuffer(payload)) {
      let s: string;
      try {
        s = JSON.stringify(payload);
      } catch (e) {
        return `msg.payload cannot be serialized: ${(e as Error).message}`;
      }
      const topic = this.o.topic ? this.o.topic(payload) : (fallbackTopic as string);
      if (this.o.batchMaxMessages > 1) return this.addToBatch(topic, s, this.counted(answer));
      body = this.transport.framing === 'ndjson' ? s + '\n' : s;
      return this.sendOne(topic, body, answer, true);
    }
    body = Buffer.isBuffer(payload) ? payload : String(payload);
    const topic = this.o.topic ? this.o.topic({ sensorId: fallbackTopic ?? undefined }) : (fallbackTopic as string);
    return this.sendOne(topic, body, answer, false);
  }

  private counted(answer: Answer): Answer {
    return (r) => { this.count(r); answer(r); };
  }

  /** Largest body for `topic`: the smallest of batchMaxBytes, the broker's maximum packet size and a learned refusal (0 = none, -1 = none fits). */
  private limitFor(topic: string): number {
    let l = this.o.batchMaxBytes;
    const t = this.transport.bodyLimit(topic);
    if (t && (!l || t < l)) l = t;
    if (this.learnedLimit && (!l || (l > 0 && this.learnedLimit < l))) l = this.learnedLimit;
    return l;
  }

  private limitText(topic: string): string {
    const t = this.transport.bodyLimit(topic);
    const l = this.limitFor(topic);
    if (t && l === t) return `the broker's maximum packet size (${t < 0 ? 'not even the topic fits' : `${t} bytes of payload on this topic`})`;
    if (l === this.learnedLimit && l !== this.o.batchMaxBytes) return `the size the broker last refused (${l} bytes)`;
    return `batchMaxBytes (${this.o.batchMaxBytes})`;
  }

  private tooBig(body: string | Buffer, limit: number): boolean {
    if (!limit) return false;
    if (limit < 0) return true;
    if (body.length * 3 <= limit) return false;
    return (typeof body === 'string' ? byteLength(body) : body.length) > limit;
  }

  /**
   * Sends one wire body carrying `n` readings. A size refusal is final for a single reading; a batch is
   * answered as transient and the limit learned, so the retry goes out split into smaller bodies.
   */
  private sendWire(topic: string, body: string | Buffer, n: number, cb: Answer, json = true, limit?: number) {
    const merge = json && this.o.mergeWhenBusy && this.transport.framing === 'json' ? (limit ?? this.limitFor(topic)) : undefined;
    this.transport.send(topic, body, this.o.qos, (r) => {
      if (r.ok) {
        this.readingsDelivered += n;
        cb(r);
        return;
      }
      if (!r.tooLarge) {
        cb(r);
        return;
      }
      if (n === 1) {
        // a single reading cannot be split: refused for good when the broker named it, retried when we only guessed
        cb(r.tooLarge === true ? { ok: false, permanent: true, error: r.error } : { ok: false, error: r.error });
        return;
      }
      const size = typeof body === 'string' ? byteLength(body) : body.length;
      const half = Math.max(1, Math.floor(size / 2));
      if (!this.learnedLimit || half < this.learnedLimit) this.learnedLimit = half;
      cb({ ok: false, error: `${r.error}; the batch of ${n} readings is split into smaller messages on the next attempt` });
    }, merge);
  }

  /** One message on its own: a single closure per message does the counting and the answer. */
  private sendOne(topic: string, body: string | Buffer, answer: Answer, json: boolean): null {
    const limit = this.limitFor(topic);
    if (this.tooBig(body, limit)) {
      this.answeredFailed++;
      answer({ ok: false, permanent: true, error: `message larger than ${this.limitText(topic)}` });
      return null;
    }
    this.sendWire(topic, body, 1, (r) => {
      if (r.ok) this.answeredOk++;
      else this.answeredFailed++;
      answer(r);
    }, json, limit);
    return null;
  }

  /** A replay batch stays one array per topic, split only where the byte limit demands it. */
  private submitArray(items: unknown[], fallbackTopic: string | null, done: Answer): string | null {
    if (items.length === 0) {
      done(OK);
      return null;
    }
    const topicFn = this.o.topic;
    // most batches go to one topic: find out before grouping anything
    const first = topicFn ? topicFn(items[0]) : (fallbackTopic as string);
    let byTopic: Map<string, unknown[]> | null = null;
    if (topicFn) {
      for (let i = 1; i < items.length; i++) {
        const t = topicFn(items[i]);
        if (t === first && !byTopic) continue;
        if (!byTopic) {
          byTopic = new Map([[first, items.slice(0, i)]]);
        }
        let list = byTopic.get(t);
        if (!list) byTopic.set(t, (list = []));
        list.push(items[i]);
      }
    }
    if (this.o.batchMaxMessages > 1 && items.length < this.o.batchMaxMessages) {
      return this.mergeArray(byTopic ?? new Map([[first, items]]), done);
    }
    const framing = this.transport.framing;
    const wire: Array<{ topic: string; body: string; n: number }> = [];
    let oversize = 0;
    let oversizeTopic = '';
    try {
      for (const [topic, list] of byTopic ?? [[first, items] as [string, unknown[]]]) {
        const limit = this.limitFor(topic);
        if (framing === 'json') {
          // one serialization for the whole array: the common case of a replay batch within the byte limit
          const body = JSON.stringify(list);
          if (!this.tooBig(body, limit)) {
            wire.push({ topic, body, n: list.length });
            continue;
          }
        }
        const over = this.split(topic, list, wire, limit);
        if (over) {
          oversize += over;
          oversizeTopic = topic;
        }
      }
    } catch (e) {
      return `msg.payload cannot be serialized: ${(e as Error).message}`;
    }
    const tracker = new Tracker(wire.length + (oversize ? 1 : 0), done);
    for (const w of wire) this.sendWire(w.topic, w.body, w.n, (r) => tracker.part(r));
    if (oversize) tracker.part({ ok: false, permanent: true, error: `${oversize} reading(s) larger than ${this.limitText(oversizeTopic)} cannot be sent` });
    return null;
  }

  /** Cuts one topic's readings into bodies within the byte limit; returns how many readings can never fit. */
  private split(topic: string, list: unknown[], wire: Array<{ topic: string; body: string; n: number }>, limit: number): number {
    const framing = this.transport.framing;
    const open = frameOpen(framing) * 2;
    let oversize = 0;
    let cur: string[] = [];
    let bytes = open;
    for (const item of list) {
      const p = JSON.stringify(item) ?? 'null';
      const b = limit ? byteLength(p) + 1 : 0;
      if (limit && (limit < 0 || b + open > limit)) {
        oversize++;
        continue;
      }
      if (cur.length && limit && bytes + b > limit) {
        wire.push({ topic, body: frame(cur, framing, true), n: cur.length });
        cur = [];
        bytes = open;
      }
      cur.push(p);
      bytes += b;
    }
    if (cur.length) wire.push({ topic, body: frame(cur, framing, true), n: cur.length });
    return oversize;
  }

  /**
   * Small array inputs join the per-topic batches like single readings do; the input is answered once,
   * after every batch that carries one of its readings is acknowledged.
   */
  private mergeArray(byTopic: Map<string, unknown[]>, done: Answer): string | null {
    const parts: Array<[string, string[]]> = [];
    try {
      for (const [topic, list] of byTopic) parts.push([topic, list.map((it) => JSON.stringify(it) ?? 'null')]);
    } catch (e) {
      return `msg.payload cannot be serialized: ${(e as Error).message}`;
    }
    // one hold on the tracker until every reading is placed, so an early flush cannot answer too soon
    const tracker = new Tracker(1, done);
    let oversize = 0;
    let oversizeTopic = '';
    for (const [topic, list] of parts) {
      for (const p of list) {
        if (this.join(topic, p, tracker)) continue;
        oversize++;
        oversizeTopic = topic;
      }
    }
    if (oversize) tracker.part({ ok: false, permanent: true, error: `${oversize} reading(s) larger than ${this.limitText(oversizeTopic)} cannot be sent` });
    else tracker.part(OK);
    return null;
  }

  private addToBatch(topic: string, part: string, done: Answer): null {
    const tracker = new Tracker(0, done);
    if (!this.join(topic, part, tracker)) done({ ok: false, permanent: true, error: `reading larger than ${this.limitText(topic)}` });
    return null;
  }

  /** Adds one serialized reading to its topic's batch on behalf of `owner`; false when it can never fit. */
  private join(topic: string, part: string, owner: Tracker): boolean {
    const limit = this.limitFor(topic);
    const b = limit ? byteLength(part) + 1 : part.length;
    const framing = this.transport.framing;
    if (limit && (limit < 0 || b + frameOpen(framing) * 2 > limit)) return false;
    let g = this.groups.get(topic);
    if (g && limit && g.bytes + b > limit) {
      this.flush(g);
      g = undefined;
    }
    if (!g) {
      g = { topic, parts: [], bytes: frameOpen(framing) * 2, owners: [], timer: null };
      this.groups.set(topic, g);
    }
    g.parts.push(part);
    g.bytes += b;
    // an input is answered once per batch it is in, however many of its readings that batch carries
    if (g.owners[g.owners.length - 1] !== owner) {
      owner.remaining++;
      g.owners.push(owner);
    }
    if (g.parts.length >= this.o.batchMaxMessages) this.flush(g);
    else if (!g.timer) {
      const grp = g;
      g.timer = setTimeout(() => this.flush(grp), this.o.batchMaxMs);
    }
    return true;
  }

  private flush(g: Group) {
    if (g.timer) clearTimeout(g.timer);
    g.timer = null;
    if (this.groups.get(g.topic) === g) this.groups.delete(g.topic);
    if (!g.parts.length) return;
    const owners = g.owners;
    this.sendWire(g.topic, frame(g.parts, this.transport.framing, true), g.parts.length, (r) => {
      // message ids of a batch shared by several inputs belong to none of them alone
      const shared = r.ids && owners.length > 1 ? { ok: r.ok } : r;
      for (const t of owners) t.part(shared);
    });
  }

  /** Sends every partly filled batch now. */
  flushAll() {
    for (const g of [...this.groups.values()]) this.flush(g);
  }

  /** Readings waiting in partly filled batches. */
  get batched(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.parts.length;
    return n;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.flushAll();
    this.transport.off('state', this.onState);
  }
}
