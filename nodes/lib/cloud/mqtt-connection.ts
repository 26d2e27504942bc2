// One mqtt.js client per endpoint, shared by every publisher: truthful per-message acknowledgements through
// mqtt.js's public API only (publish with a callback); speed comes from our window and per-turn batching.
import { EventEmitter } from 'events';
import mqtt, { MqttClient, IClientOptions, IStore, Store } from 'mqtt';
import { OK, SendResult, classifyMqttError, redact } from './errors';
import type { Framing, LinkState, Problem, Transport } from './transport';
import { Backoff } from '../common/backoff';
import { BrokerLimits, NO_LIMITS, limitsFromConnack, payloadLimit } from './broker-limits';
import { AnswerWatch, TakeoverDetector, SESSION_TAKEN_OVER } from './mqtt-health';
import { noStore, PROBE_TOPIC, clientOptions } from './mqtt-options';
import { Job, takeMerged } from './merge';

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  keepaliveSec?: number;
  /** false = persistent session (clean session / clean start off): the session resends what was in flight */
  clean?: boolean;
  /** clean session off: how long the session may hold unacknowledged publishes while disconnected (MQTT 5: also the session expiry interval) */
  sessionExpirySec?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  /** no answer (PUBACK, probe) for this long while one is expected: the connection is dead. 0 = never */
  answerTimeoutMs?: number;
  /** a connection that lasted this long is stable: backoff and takeover suspicion start over */
  stableMs?: number;
  /** TLS options (ca, cert, key, rejectUnauthorized, servername) from a tls-config node */
  tls?: Record<string, unknown>;
  /** retained online/offline state topic: birth message on connect, last will on loss */
  stateTopic?: string;
  /** publishes waiting for PUBACK at once; more wait in a bounded queue */
  maxInFlight?: number;
  /** publishes allowed to wait for a free in-flight slot; beyond it they are refused at once */
  maxQueued?: number;
}


// shared publish options (mqtt.js copies them): no object per message
const QOS0 = Object.freeze({ qos: 0 as const });
const QOS1 = Object.freeze({ qos: 1 as const });

// free in-flight slots worth a merging pass while publishes are still in flight
const MIN_MERGE_ROOM = 16;

type Options = Required<Omit<MqttConnectionOptions, 'username' | 'password' | 'tls' | 'stateTopic'>> & MqttConnectionOptions;

export class MqttConnection extends EventEmitter implements Transport {
  readonly kind = 'mqtt' as const;
  readonly framing: Framing = 'json';
  state: LinkState = 'disconnected';
  /** what keeps the link from working, for the status ('' = nothing) */
  problem: Problem = '';
  /** last connection error, already redacted */
  lastError = '';
  /** what the broker stated in its last CONNACK */
  limits: BrokerLimits = NO_LIMITS;
  client: MqttClient | null = null;
  /** our sequence number → the answer of a publish waiting for its PUBACK */
  private pending = new Map<number, (r: SendResult) => void>();
  private seq = 0;
  private queue: Array<Job | undefined> = [];
  private head = 0;
  private pumpScheduled = false;
  private stopping = false;
  private readonly retry: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** publishes allowed in flight on this connection: maxInFlight, or less if the broker says so */
  private window: number;
  private readonly o: Options;
  private readonly takeover: TakeoverDetector;
  private readonly watch: AnswerWatch;
  /** clean session off: mqtt.js keeps unacknowledged publishes here and resends them after a reconnect */
  private sessionStore: Store | null = null;
  /** reason code of the broker's DISCONNECT on the current connection */
  private disconnectReason: number | undefined;
  /** learned from a refused CONNECT: the broker takes no retained will / no QoS 1 will */
  private willRetain = true;
  private willQos: 0 | 1 = 1;
  private readonly pumpTick = () => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(options: MqttConnectionOptions) {
    super();
    this.o = {
      protocolVersion: 4,
      keepaliveSec: 60,
      clean: true,
      sessionExpirySec: 3600,
      reconnectMinMs: 1000,
      reconnectMaxMs: 30000,
      connectTimeoutMs: 10000,
      answerTimeoutMs: 30000,
      stableMs: 0,
      maxInFlight: 2000,
      maxQueued: 100000,
      ...options,
    };
    if (!this.o.stableMs) this.o.stableMs = Math.max(10000, 2 * this.o.reconnectMaxMs);
    this.retry = new Backoff(this.o.reconnectMinMs, this.o.reconnectMaxMs);
    this.takeover = new TakeoverDetector(this.o.stableMs);
    this.watch = new AnswerWatch(this.o.answerTimeoutMs);
    this.window = this.o.maxInFlight;
  }

  get clientId(): string {
    return this.o.clientId;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  private setState(s: LinkState, detail?: string) {
    if (s === this.state && !detail) return;
    this.state = s;
    this.emit('state', s, detail);
  }

  private setProblem(p: Problem, warning?: string) {
    if (p === this.problem) return;
    this.problem = p;
    if (warning) this.emit('warning', warning);
    this.emit('state', this.state);
  }

  private secrets() {
    return [this.o.password, this.o.username && this.o.username.length >= 6 ? this.o.username : undefined];
  }

  private stateMessage(state: 'online' | 'offline') {
    return JSON.stringify({ state, clientId: this.o.clientId, ts: Date.now() });
  }

  start(): void {
    if (this.client || this.reconnectTimer) return;
    this.stopping = false;
    this.connect(false);
  }

  private connect(again: boolean) {
    const o = this.o;
    if (!o.clean && !this.sessionStore) this.sessionStore = new Store({ clean: false });
    const opts: IClientOptions = clientOptions(o, (this.sessionStore as unknown as IStore | null) ?? noStore());
    if (o.stateTopic) {
      opts.will = { topic: o.stateTopic, payload: Buffer.from(this.stateMessage('offline')), qos: this.willQos, retain: this.willRetain };
    }
    this.setState(again ? 'reconnecting' : 'connecting');
    const client = mqtt.connect(o.url, opts);
    this.client = client;
    this.bind(client);
  }

  private bind(client: MqttClient) {
    client.on('connect', (connack) => { if (client === this.client) this.onConnect(client, connack); });
    client.on('error', (err: Error & { code?: unknown }) => {
      if (client !== this.client) return;
      this.lastError = redact(err?.message ?? String(err), this.secrets());
      // a broker without retain or QoS 1 refuses our last will: connect again without it
      if (err?.code === 0x9a) this.willRetain = false;
      if (err?.code === 0x9b) this.willQos = 0;
      this.emit('link-error', this.lastError);
    });
    client.on('disconnect', (packet: { reasonCode?: number }) => {
      if (client !== this.client) return;
      this.disconnectReason = packet?.reasonCode;
      if (packet?.reasonCode) this.lastError = `the broker disconnected us (reason code 0x${packet.reasonCode.toString(16)})`;
    });
    client.on('close', () => { if (client === this.client) this.onClose(client); });
  }

  private onConnect(client: MqttClient, connack: unknown) {
    const now = Date.now();
    this.limits = limitsFromConnack(connack);
    // an MQTT 5 broker may allow fewer unacknowledged publishes than we would keep; exceeding it costs the connection
    this.window = Math.max(1, Math.min(this.o.maxInFlight, this.limits.receiveMaximum));
    this.disconnectReason = undefined;
    this.lastError = '';
    this.takeover.connected(now);
    this.clearTimer('expiryTimer');
    this.clearTimer('stableTimer');
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null;
      this.retry.reset();
      this.takeover.stable();
      if (this.problem === 'takeover') this.setProblem('');
    }, this.o.stableMs);
    this.stableTimer.unref();
    this.watch.reset(now);
    if (this.o.answerTimeoutMs > 0 && !this.watchTimer) {
      this.watchTimer = setInterval(() => this.checkAnswers(), Math.max(20, Math.floor(this.o.answerTimeoutMs / 4)));
      this.watchTimer.unref();
    }
    if (this.o.stateTopic) {
      const qos = this.limits.maxQos >= 1 ? 1 : 0;
      client.publish(this.o.stateTopic, this.stateMessage('online'), { qos, retain: this.limits.retainAvailable }, () => undefined);
    }
    if (this.limits.maxQos === 0) this.setProblem('maxQos', 'the broker accepts QoS 0 only (MQTT 5 CONNACK): QoS 1 publishes are refused; set the publisher\'s QoS to 0 or use another broker');
    else if (this.problem === 'maxQos' || this.problem === 'unresponsive') this.setProblem('');
    this.setState('connected');
    this.pump();
  }

  private checkAnswers() {
    const client = this.client;
    if (!client || this.state !== 'connected') return;
    const expecting = this.pending.size > 0 || this.o.keepaliveSec === 0;
    const verdict = this.watch.check(Date.now(), expecting);
    if (verdict === 'probe') {
      // any answer proves the broker reads our writes; an UNSUBSCRIBE changes nothing at the broker
      client.unsubscribe(PROBE_TOPIC, () => { if (client === this.client) this.watch.answered(); });
    } else if (verdict === 'dead') {
      const quiet = 2 * this.o.answerTimeoutMs;
      this.lastError = `no answer from the broker for ${quiet < 10000 ? `${quiet} ms` : `${Math.round(quiet / 1000)} s`}: connection half-open or broker stalled`;
      this.setProblem('unresponsive', `${this.lastError}; reconnecting`);
      this.emit('link-error', this.lastError);
      // nothing more goes to this connection; the close event follows and does the rest (answers, reconnect)
      this.setState('disconnected', this.lastError);
      client.end(true);
    }
  }

  private clearTimer(name: 'expiryTimer' | 'stableTimer' | 'watchTimer' | 'reconnectTimer') {
    const t = this[name];
    if (t) {
      clearTimeout(t);
      clearInterval(t);
    }
    this[name] = null;
  }

  private onClose(client: MqttClient) {
    this.clearTimer('stableTimer');
    this.clearTimer('watchTimer');
    const why = this.stopping ? 'endpoint closed' : this.lost().error as string;
    if (!this.stopping && this.takeover.closed(Date.now(), this.disconnectReason)) {
      const sure = this.disconnectReason === SESSION_TAKEN_OVER;
      this.setProblem('takeover', `${sure ? 'the broker handed our session to another connection' : `the broker closed the connection right after connecting ${this.takeover.shortCloses} times in a row`}: another client is probably using the client id "${this.o.clientId}". On a fleet leave Client ID empty so that each gateway gets its own.`);
    }
    this.disconnectReason = undefined;
    this.failQueued(why);
    if (this.o.clean || this.stopping) {
      // clean session: nothing will be resent, so every unacknowledged publish is answered now and the flow retries
      this.failPending(why);
      if (!this.stopping) this.discard(client);
    } else if (this.pending.size) {
      this.holdForSession(client);
    }
    if (this.stopping) {
      this.setState('disconnected');
      return;
    }
    this.setState('disconnected', this.lastError);
    this.scheduleReconnect();
  }

  /** Persistent session: mqtt.js resends what is in flight after the reconnect; we answer when the PUBACK comes. */
  private holdForSession(client: MqttClient) {
    if (this.expiryTimer) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.state === 'connected' || client !== this.client) return;
      // the session cannot cover an outage this long: give the messages back to the flow and start a new session
      this.failPending(`not acknowledged within the session expiry (${this.o.sessionExpirySec} s)`);
      this.discard(client);
      this.sessionStore = null;
      // the discarded client may have been mid-attempt: make sure a fresh one follows
      this.scheduleReconnect();
    }, this.o.sessionExpirySec * 1000);
    this.expiryTimer.unref();
  }

  /** Drops a client for good; its late callbacks find nothing in `pending`. */
  private discard(client: MqttClient) {
    if (this.client === client) this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
  }

  private lost(): SendResult {
    return { ok: false, error: `connection lost before acknowledgement${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  private failPending(error: string) {
    if (!this.pending.size) return;
    const r: SendResult = { ok: false, error };
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const cb of all) cb(r);
  }

  private failQueued(error: string) {
    if (!this.queued) return;
    const r: SendResult = { ok: false, error };
    const all = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const w of all) if (w) w.cb(r);
  }

  private scheduleReconnect() {
    if (this.reconnectTimer || this.stopping) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping) return;
      const client = this.client;
      if (client && this.sessionStore) {
        this.setState('reconnecting');
        // mqtt.js forgets the stores given at connect unless they are passed again here
        client.reconnect({ outgoingStore: this.sessionStore });
      } else this.connect(true);
    }, this.retry.next());
  }

  refusal(): SendResult | null {
    return this.state === 'connected' && this.client ? null : { ok: false, error: `not connected to the broker (${this.state})` };
  }

  /** Largest body a publish to `topic` may carry under the broker's maximum packet size (0: no limit, -1: none fits). */
  bodyLimit(topic: string): number {
    return this.limits.maxPacketSize ? payloadLimit(this.limits.maxPacketSize, topic, this.o.protocolVersion === 5) : 0;
  }

  send(topic: string, body: string | Buffer, qos: 0 | 1, cb: (r: SendResult) => void, mergeLimit?: number): void {
    if (this.state !== 'connected' || !this.client) {
      cb({ ok: false, error: `not connected to the broker (${this.state})` });
      return;
    }
    if (qos > this.limits.maxQos) {
      cb({ ok: false, error: `the broker accepts QoS ${this.limits.maxQos} at most (MQTT 5 CONNACK): set the publisher's QoS to ${this.limits.maxQos}` });
      return;
    }
    if (this.limits.maxPacketSize && body.length * 3 > this.limits.maxPacketSize - 16) {
      const room = this.bodyLimit(topic);
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      if (size > room) {
        cb({ ok: false, tooLarge: true, error: `message of ${size} bytes is over the broker's maximum packet size (${this.limits.maxPacketSize} bytes)` });
        return;
      }
    }
    if (this.queued >= this.o.maxQueued) {
      cb({ ok: false, error: 'too many messages waiting for the broker' });
      return;
    }
    this.queue.push({ topic, body, qos, cb, mergeLimit });
    // publishes of one event-loop turn go to mqtt.js together, so its writes of that turn leave in one go
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(this.pumpTick);
    }
  }

  private publishNow(client: MqttClient, job: Job) {
    const id = ++this.seq;
    this.pending.set(id, job.cb);
    client.publish(job.topic, job.body, job.qos === 1 ? QOS1 : QOS0, (err?: Error) => {
      // answered already when the connection dropped: exactly one report per message
      const answer = this.pending.get(id);
      if (!answer) return;
      this.pending.delete(id);
      this.watch.answered();
      // a reason code is the broker's verdict on this message; an error without one is mqtt.js giving up on the connection
      answer(!err ? OK : typeof (err as { code?: unknown }).code === 'number' ? classifyMqttError(err) : this.lost());
      if (this.head < this.queue.length && !this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(this.pumpTick);
      }
    });
  }

  private pump() {
    const client = this.client;
    if (!client) return;
    while (this.state === 'connected' && this.head < this.queue.length && this.pending.size < this.window) {
      const room = this.window - this.pending.size;
      if (this.queue.length - this.head > room) {
        // a few free slots while acknowledgements are on their way: wait for more, so that merges are worth it
        if (room < Math.min(MIN_MERGE_ROOM, this.window) && this.pending.size > 0) break;
        // more waiting than the window takes: JSON bodies for one topic leave together
        const taken = takeMerged(this.queue, this.head, room);
        this.queue = taken.rest;
        this.head = 0;
        for (const job of taken.out) this.publishNow(client, job);
        continue;
      }
      const job = this.queue[this.head] as Job;
      this.queue[this.head++] = undefined;
      this.publishNow(client, job);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Publishes the offline state (a clean disconnect suppresses the last will), then disconnects. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopping = true;
    for (const t of ['reconnectTimer', 'stableTimer', 'watchTimer', 'expiryTimer'] as const) this.clearTimer(t);
    this.failQueued('endpoint closed');
    const client = this.client;
    if (!client) {
      this.failPending('endpoint closed');
      this.setState('disconnected');
      return;
    }
    if (this.o.stateTopic && client.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        client.publish(this.o.stateTopic as string, this.stateMessage('offline'), { qos: this.limits.maxQos >= 1 ? 1 : 0, retain: this.limits.retainAvailable }, () => { clearTimeout(t); resolve(); });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { client.end(true, () => resolve()); }, timeoutMs);
      client.end(false, {}, () => { clearTimeout(t); resolve(); });
    });
    this.failPending('endpoint closed');
    if (this.client === client) this.client = null;
    this.setState('disconnected');
  }
}
