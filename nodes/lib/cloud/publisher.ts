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
  /** largest message body on the wire (the broker's maximum packet size); 0 = no limit */
  batchMaxBytes: number;
}

export type Answer = (r: SendResult) => void;

/** One input message waiting for all the wire messages that carry its readings. */
class Tracker {
  failure: SendResult | null = null;
  constructor(public remaining: number, public answer: Answer) {}

  part(r: SendResult) {
    if (!r.ok) this.failure = mergeFailure(this.failure, r);
    if (--this.remaining === 0) this.answer(this.failure ?? OK);
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
    // HTTP needs no topic; MQTT needs the template or msg.topic
    const fallbackTopic = typeof msgTopic === 'string' && msgTopic !== '' ? msgTopic : this.transport.kind === 'http' ? '' : null;
    if (!this.o.topic && fallbackTopic === null) return 'no topic: set a topic template on the node or msg.topic';
    const done: Answer = (r) => { this.count(r); answer(r); };
    const refusal = this.transport.refusal();
    if (refusal) {
      done(refusal);
      return null;
    }
    if (Array.isArray(payload)) return this.submitArray(payload, fallbackTopic, done);
    let body: string | Buffer;
    if (typeof payload === 'object' && !Buffer.isBuffer(payload)) {
      let s: string;
      try {
        s = JSON.stringify(payload);
      } catch (e) {
        return `msg.payload cannot be serialized: ${(e as Error).message}`;
      }
      const topic = this.o.topic ? this.o.topic(payload) : (fallbackTopic as string);
      if (this.o.batchMaxMessages > 1) return this.addToBatch(topic, s, done);
      body = this.transport.framing === 'ndjson' ? s + '\n' : s;
      return this.sendOne(topic, body, done);
    }
    body = Buffer.isBuffer(payload) ? payload : String(payload);
    const topic = this.o.topic ? this.o.topic({ sensorId: fallbackTopic ?? undefined }) : (fallbackTopic as string);
    return this.sendOne(topic, body, done);
  }

  private tooBig(body: string | Buffer): boolean {
    const limit = this.o.batchMaxBytes;
    if (!limit || body.length * 3 <= limit) return false;
    return (typeof body === 'string' ? byteLength(body) : body.length) > limit;
  }

  private sendOne(topic: string, body: string | Buffer, done: Answer): null {
    if (this.tooBig(body)) {
      done({ ok: false, permanent: true, error: `message larger than batchMaxBytes (${this.o.batchMaxBytes})` });
      return null;
    }
    this.transport.send(topic, body, this.o.qos, (r) => {
      if (r.ok) this.readingsDelivered++;
      done(r);
    });
    return null;
  }

  /** A replay batch stays one array per topic, split only where the byte limit demands it. */
  private submitArray(items: unknown[], fallbackTopic: string | null, done: Answer): string | null {
    if (items.length === 0) {
      done(OK);
      return null;
    }
    const byTopic = new Map<string, string[]>();
    try {
      for (const item of items) {
        const topic = this.o.topic ? this.o.topic(item) : (fallbackTopic as string);
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(JSON.stringify(item) ?? 'null');
      }
    } catch (e) {
      return `msg.payload cannot be serialized: ${(e as Error).message}`;
    }
    const framing = this.transport.framing;
    const wire: Array<{ topic: string; parts: string[] }> = [];
    let oversize = 0;
    const limit = this.o.batchMaxBytes;
    for (const [topic, parts] of byTopic) {
      if (!limit) {
        wire.push({ topic, parts });
        continue;
      }
      let cur: string[] = [];
      let bytes = frameOpen(framing) * 2;
      for (const p of parts) {
        const b = byteLength(p) + 1;
        if (b + frameOpen(framing) * 2 > limit) {
          oversize++;
          continue;
        }
        if (cur.length && bytes + b > limit) {
          wire.push({ topic, parts: cur });
          cur = [];
          bytes = frameOpen(framing) * 2;
        }
        cur.push(p);
        bytes += b;
      }
      if (cur.length) wire.push({ topic, parts: cur });
    }
    const tracker = new Tracker(wire.length + (oversize ? 1 : 0), done);
    for (const w of wire) {
      const n = w.parts.length;
      this.transport.send(w.topic, frame(w.parts, framing, true), this.o.qos, (r) => {
        if (r.ok) this.readingsDelivered += n;
        tracker.part(r);
      });
    }
    if (oversize) tracker.part({ ok: false, permanent: true, error: `${oversize} reading(s) larger than batchMaxBytes (${limit}) cannot be sent` });
    return null;
  }

  private addToBatch(topic: string, part: string, done: Answer): null {
    const limit = this.o.batchMaxBytes;
    const b = limit ? byteLength(part) + 1 : part.length;
    const framing = this.transport.framing;
    if (limit && b + frameOpen(framing) * 2 > limit) {
      done({ ok: false, permanent: true, error: `reading larger than batchMaxBytes (${limit})` });
      return null;
    }
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
    g.owners.push(new Tracker(1, done));
    if (g.parts.length >= this.o.batchMaxMessages) this.flush(g);
    else if (!g.timer) {
      const grp = g;
      g.timer = setTimeout(() => this.flush(grp), this.o.batchMaxMs);
    }
    return null;
  }

  private flush(g: Group) {
    if (g.timer) clearTimeout(g.timer);
    g.timer = null;
    if (this.groups.get(g.topic) === g) this.groups.delete(g.topic);
    if (!g.parts.length) return;
    const owners = g.owners;
    const n = g.parts.length;
    this.transport.send(g.topic, frame(g.parts, this.transport.framing, true), this.o.qos, (r) => {
      if (r.ok) this.readingsDelivered += n;
      for (const t of owners) t.part(r);
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
