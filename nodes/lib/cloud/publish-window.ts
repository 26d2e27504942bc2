// The publishes of one MQTT connection: at most `size` waiting for their PUBACK, the rest queued per topic in
// order, handed to mqtt.js once per event-loop turn, merged per topic when more wait than the window takes.
import type { MqttClient } from 'mqtt';
import { OK, SendResult, classifyMqttError } from './errors';
import { Job, TopicQueue } from './merge';

// shared publish options (mqtt.js copies them): no object per message
const QOS0 = Object.freeze({ qos: 0 as const });
const QOS1 = Object.freeze({ qos: 1 as const });

// free in-flight slots worth a merging pass while publishes are still in flight
const MIN_MERGE_ROOM = 16;

export class PublishWindow {
  /** publishes allowed in flight: maxInFlight, or less if the broker says so */
  size: number;
  /** our sequence number → a publish waiting for its PUBACK (in the order they were sent) */
  private pending = new Map<number, Job>();
  /** sequence number of the last publish handed to mqtt.js */
  seq = 0;
  private queue = new TopicQueue();
  private scheduled = false;
  private readonly tick = () => {
    this.scheduled = false;
    this.pump();
  };

  /**
   * `client()`: the connected client to publish on, or null; `answered()`: called for every answer from the broker;
   * `lost()`: the answer for a publish mqtt.js gave up on with the connection.
   */
  constructor(
    size: number,
    private readonly maxQueued: number,
    private readonly client: () => MqttClient | null,
    private readonly answered: () => void,
    private readonly lost: () => SendResult,
  ) {
    this.size = size;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get queued(): number {
    return this.queue.size;
  }

  /** Queues a publish for this turn's batch; refuses at once when the queue is full. */
  add(job: Job): void {
    if (this.queued >= this.maxQueued) {
      job.cb({ ok: false, error: 'too many messages waiting for the broker' });
      return;
    }
    this.queue.add(job);
    // publishes of one event-loop turn go to mqtt.js together, so its writes of that turn leave in one go
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.queue.size === 0) return;
    this.scheduled = true;
    setImmediate(this.tick);
  }

  private publish(client: MqttClient, job: Job) {
    const id = ++this.seq;
    this.pending.set(id, job);
    client.publish(job.topic, job.body, job.qos === 1 ? QOS1 : QOS0, (err?: Error) => {
      // answered already when the connection dropped: exactly one report per message
      const waiting = this.pending.get(id);
      if (!waiting) return;
      this.pending.delete(id);
      this.answered();
      // a reason code is the broker's verdict on this message; an error without one is mqtt.js giving up on the connection
      waiting.cb(!err ? OK : typeof (err as { code?: unknown }).code === 'number' ? classifyMqttError(err) : this.lost());
      this.schedule();
    });
  }

  pump(): void {
    let client = this.client();
    while (client && this.queue.size > 0 && this.pending.size < this.size) {
      const room = this.size - this.pending.size;
      const busy = this.queue.size > room;
      // a few free slots while acknowledgements are on their way: wait for more, so that merges are worth it
      if (busy && room < Math.min(MIN_MERGE_ROOM, Math.ceil(this.size / 4)) && this.pending.size > 0) break;
      // more waiting than the window takes: JSON bodies for one topic leave together
      this.publish(client, this.queue.next(busy) as Job);
      client = this.client();
    }
  }

  /** Sequence number of the oldest publish still waiting for its PUBACK (Infinity: none). */
  oldest(): number {
    for (const id of this.pending.keys()) return id;
    return Infinity;
  }

  /** Answers the largest publish in flight with `r` (the one a size refusal most likely meant). */
  failLargest(r: SendResult): void {
    let best = -1;
    let bytes = -1;
    for (const [id, job] of this.pending) {
      if (job.body.length > bytes) {
        bytes = job.body.length;
        best = id;
      }
    }
    const job = this.pending.get(best);
    if (!job) return;
    this.pending.delete(best);
    job.cb(r);
  }

  /** Answers every publish waiting for its PUBACK. */
  failPending(error: string): void {
    if (!this.pending.size) return;
    const r: SendResult = { ok: false, error };
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const job of all) job.cb(r);
  }

  /** Answers every publish not yet handed to mqtt.js. */
  failQueued(error: string): void {
    if (!this.queued) return;
    const r: SendResult = { ok: false, error };
    for (const w of this.queue.drain()) w.cb(r);
  }
}
