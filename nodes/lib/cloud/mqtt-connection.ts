// One mqtt.js client per endpoint, shared by every publisher: truthful per-message acknowledgements.
import { EventEmitter } from 'events';
import { Readable } from 'stream';
import mqtt, { MqttClient, IClientOptions } from 'mqtt';
import { OK, SendResult, classifyMqttError, redact } from './errors';
import type { Framing, LinkState, Transport } from './transport';
import { Backoff } from '../common/backoff';

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  keepaliveSec?: number;
  /** false = persistent session (clean session / clean start off) */
  clean?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  /** TLS options (ca, cert, key, rejectUnauthorized, servername) from a tls-config node */
  tls?: Record<string, unknown>;
  /** retained online/offline state topic: birth message on connect, last will on loss */
  stateTopic?: string;
  /** publishes waiting for PUBACK at once; more wait in a bounded queue */
  maxInFlight?: number;
  /** publishes allowed to wait for a free in-flight slot; beyond it they are refused at once */
  maxQueued?: number;
}

interface Waiting {
  topic: string;
  body: string | Buffer;
  qos: 0 | 1;
  cb: (r: SendResult) => void;
}

// shared publish options (mqtt.js copies them): no object per message
const QOS0 = Object.freeze({ qos: 0 as const });
const QOS1 = Object.freeze({ qos: 1 as const });

// PUBLISH packets of one event-loop turn share buffers of at least this size
const OUT_CHUNK = 64 * 1024;
const FLUSH_AT = 16 * 1024;

// mqtt.js would resend unacknowledged publishes after a reconnect; we answer them ok:false instead
// and let the flow (store-and-forward) retry, so nothing is held or sent twice behind its back.
class NoResendStore {
  put(_packet: unknown, cb?: (err?: Error) => void) { if (cb) cb(); return this; }
  del(packet: unknown, cb?: (err: Error | null, packet?: unknown) => void) { if (cb) cb(null, packet); return this; }
  get(_packet: unknown, cb: (err: Error | null, packet?: unknown) => void) { cb(new Error('not stored')); return this; }
  createStream() { return Readable.from([]); }
  close(cb?: () => void) { if (cb) cb(); }
}

export class MqttConnection extends EventEmitter implements Transport {
  readonly kind = 'mqtt' as const;
  readonly framing: Framing = 'json';
  state: LinkState = 'disconnected';
  /** last connection error, already redacted */
  lastError = '';
  client: MqttClient | null = null;
  /** our sequence number → the answer of a publish waiting for its PUBACK */
  private pending = new Map<number, (r: SendResult) => void>();
  private seq = 0;
  private waiting: Waiting[] = [];
  private waitHead = 0;
  private stopping = false;
  private readonly retry: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** the socket held corked until the next turn of the event loop, so a burst of publishes leaves in one write */
  private corked: { uncork(): void } | null = null;
  /** PUBLISH packets encoded this turn, written at its end: out[outStart, outLen) for outStream */
  private out: Buffer | null = null;
  private outStart = 0;
  private outLen = 0;
  private outStream: { write(b: Buffer): boolean } | null = null;
  private flushScheduled = false;
  /** publishes allowed in flight on this connection: maxInFlight, or less if the broker says so */
  private window: number;
  private readonly noResend = new NoResendStore();
  private readonly flushTick = () => {
    this.flushScheduled = false;
    this.flushOut();
  };
  private readonly uncork = () => {
    const s = this.corked;
    this.corked = null;
    if (s) s.uncork();
  };
  private readonly o: Required<Omit<MqttConnectionOptions, 'username' | 'password' | 'tls' | 'stateTopic'>> & MqttConnectionOptions;

  constructor(options: MqttConnectionOptions) {
    super();
    this.o = {
      protocolVersion: 4,
      keepaliveSec: 60,
      clean: true,
      reconnectMinMs: 1000,
      reconnectMaxMs: 30000,
      connectTimeoutMs: 10000,
      maxInFlight: 2000,
      maxQueued: 100000,
      ...options,
    };
    this.retry = new Backoff(this.o.reconnectMinMs, this.o.reconnectMaxMs);
    this.window = this.o.maxInFlight;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get queued(): number {
    return this.waiting.length - this.waitHead;
  }

  private setState(s: LinkState, detail?: string) {
    if (s === this.state && !detail) return;
    this.state = s;
    this.emit('state', s, detail);
  }

  private secrets() {
    return [this.o.password, this.o.username && this.o.username.length >= 6 ? this.o.username : undefined];
  }

  private stateMessage(state: 'online' | 'offline') {
    return JSON.stringify({ state, clientId: this.o.clientId, ts: Date.now() });
  }

  start(): void {
    if (this.client) return;
    this.stopping = false;
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: this.o.protocolVersion,
      keepalive: this.o.keepaliveSec,
      clean: this.o.clean,
      connectTimeout: this.o.connectTimeoutMs,
      reconnectPeriod: 0, // our own backoff, see scheduleReconnect
      queueQoSZero: false,
      // a ping every keepalive period instead of re-arming a timer for every PUBACK (two timer operations per message)
      reschedulePings: false,
      outgoingStore: this.noResend as any,
      // mqtt.js logs a dozen debug lines per publish; skip their cost unless DEBUG asks for them
      ...(/mqttjs/.test(process.env.DEBUG ?? '') ? {} : { log: () => undefined }),
      ...(this.o.tls ?? {}),
    };
    if (this.o.username) opts.username = this.o.username;
    if (this.o.password) opts.password = this.o.password;
    if (this.o.stateTopic) {
      opts.will = { topic: this.o.stateTopic, payload: Buffer.from(this.stateMessage('offline')), qos: 1, retain: true };
    }
    this.setState('connecting');
    const client = mqtt.connect(this.o.url, opts);
    this.client = client;
    client.on('connect', (connack: { properties?: { receiveMaximum?: number } }) => {
      // an MQTT 5 broker may allow fewer unacknowledged publishes than we would keep; exceeding it costs the connection
      const rm = connack?.properties?.receiveMaximum;
      this.window = typeof rm === 'number' && rm > 0 ? Math.min(this.o.maxInFlight, rm) : this.o.maxInFlight;
      // we coalesce writes ourselves (cork per event-loop turn); Nagle would only hold the tail of each burst back
      const sock = client.stream as unknown as { setNoDelay?: (v: boolean) => void };
      if (typeof sock.setNoDelay === 'function') sock.setNoDelay(true);
      this.retry.reset();
      this.lastError = '';
      if (this.o.stateTopic) client.publish(this.o.stateTopic, this.stateMessage('online'), { qos: 1, retain: true }, () => undefined);
      this.setState('connected');
      this.pump();
    });
    client.on('error', (err) => {
      this.lastError = redact(err?.message ?? String(err), this.secrets());
      this.emit('link-error', this.lastError);
    });
    client.on('close', () => this.onClose());
  }

  private onClose() {
    const client = this.client;
    const why = this.stopping ? 'endpoint closed' : `connection lost before acknowledgement${this.lastError ? `: ${this.lastError}` : ''}`;
    if (client) {
      // drop mqtt.js's own bookkeeping of the unacknowledged publishes answered below
      const outgoing = (client as any).outgoing as Record<string, unknown> | undefined;
      if (outgoing) for (const id of Object.keys(outgoing)) delete outgoing[id];
    }
    // packets encoded for the lost connection are never written to the next one
    this.out = null;
    this.outStart = this.outLen = 0;
    this.outStream = null;
    this.failAll(why);
    if (this.stopping) {
      this.setState('disconnected');
      return;
    }
    this.setState('disconnected', this.lastError);
    this.scheduleReconnect();
  }

  private failAll(error: string) {
    const r: SendResult = { ok: false, error };
    if (this.pending.size) {
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const cb of all) cb(r);
    }
    if (this.queued) {
      const all = this.waiting.slice(this.waitHead);
      this.waiting = [];
      this.waitHead = 0;
      for (const w of all) w.cb(r);
    }
  }

  private scheduleReconnect() {
    if (this.reconnectTimer || this.stopping) return;
    const wait = this.retry.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || !this.client) return;
      this.setState('reconnecting');
      // mqtt.js forgets the stores given at connect unless they are passed again here
      this.client.reconnect({ outgoingStore: this.noResend as any });
    }, wait);
  }

  refusal(): SendResult | null {
    return this.state === 'connected' && this.client ? null : { ok: false, error: `not connected to the broker (${this.state})` };
  }

  send(topic: string, body: string | Buffer, qos: 0 | 1, cb: (r: SendResult) => void): void {
    if (this.state !== 'connected' || !this.client) {
      cb({ ok: false, error: `not connected to the broker (${this.state})` });
      return;
    }
    if (this.pending.size >= this.window || this.queued > 0) {
      if (this.queued >= this.o.maxQueued) {
        cb({ ok: false, error: 'too many messages waiting for the broker' });
        return;
      }
      this.waiting.push({ topic, body, qos, cb });
      return;
    }
    this.publishNow(topic, body, qos, cb);
  }

  private publishNow(topic: string, body: string | Buffer, qos: 0 | 1, cb: (r: SendResult) => void) {
    const id = ++this.seq;
    this.pending.set(id, cb);
    const client = this.client as MqttClient;
    const acked = (err?: Error | null) => {
      // answered already when the connection dropped: exactly one report per message
      const answer = this.pending.get(id);
      if (!answer) return;
      this.pending.delete(id);
      answer(err ? classifyMqttError(err) : OK);
      if (this.waitHead < this.waiting.length) this.pump();
    };
    if (qos === 1 && this.writeDirect(client, topic, body, acked)) return;
    // mqtt.js writes after what we buffered, so packets leave in the order they were sent
    this.flushOut();
    // Node-RED hands over each message in its own setImmediate: without this every publish is its own write
    if (!this.corked && client.stream && typeof client.stream.cork === 'function') {
      client.stream.cork();
      this.corked = client.stream;
      setImmediate(this.uncork);
    }
    client.publish(topic, body, qos === 1 ? QOS1 : QOS0, acked);
  }

  /**
   * QoS 1 hot path: encodes the PUBLISH into one buffer per event-loop turn instead of mqtt.js's six stream
   * writes, a packet copy and a dozen log calls per message. mqtt.js still owns the message id and matches the
   * PUBACK through its public `outgoing` table, so `acked` runs only when the broker acknowledged.
   */
  private writeDirect(client: MqttClient, topic: string, body: string | Buffer, acked: (err?: Error | null) => void): boolean {
    // mqtt.js replaying its store after a reconnect: let it keep the order
    const c = client as unknown as { _storeProcessing?: boolean; _storeProcessingQueue?: unknown[] };
    if (!client.connected || client.disconnecting || c._storeProcessing || (c._storeProcessingQueue && c._storeProcessingQueue.length)) return false;
    const stream = client.stream as unknown as { write(b: Buffer): boolean } | undefined;
    if (!stream || typeof stream.write !== 'function' || !client.messageIdProvider || !client.outgoing) return false;
    const mid = client.messageIdProvider.allocate();
    if (mid === null || client.outgoing[mid]) return false;
    client.outgoing[mid] = { volatile: false, cmd: 'publish', cb: acked as (err: Error) => void };
    const v5 = this.o.protocolVersion === 5;
    const tl = Buffer.byteLength(topic);
    const pl = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const rem = 2 + tl + 2 + (v5 ? 1 : 0) + pl;
    const size = 1 + (rem < 128 ? 1 : rem < 16384 ? 2 : rem < 2097152 ? 3 : 4) + rem;
    if (this.outStream !== stream || !this.out || this.outLen + size > this.out.length) {
      this.flushOut();
      this.out = Buffer.allocUnsafe(Math.max(OUT_CHUNK, size));
      this.outStart = this.outLen = 0;
      this.outStream = stream;
    }
    const buf = this.out;
    let o = this.outLen;
    buf[o++] = 0x32; // PUBLISH, QoS 1, no DUP, no RETAIN
    let x = rem;
    do {
      let b = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) b |= 128;
      buf[o++] = b;
    } while (x > 0);
    buf[o++] = tl >> 8;
    buf[o++] = tl & 255;
    o += buf.write(topic, o);
    buf[o++] = mid >> 8;
    buf[o++] = mid & 255;
    if (v5) buf[o++] = 0; // no properties
    if (typeof body === 'string') o += buf.write(body, o);
    else o += body.copy(buf, o);
    this.outLen = o;
    // a long turn writes as it goes, so the broker starts acknowledging while we still encode
    if (o - this.outStart >= FLUSH_AT) this.flushOut();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTick);
    }
    return true;
  }

  /** Writes what this turn buffered, to the connection it was encoded for (never to a newer one). */
  private flushOut() {
    if (!this.out || this.outLen === this.outStart) return;
    const chunk = this.out.subarray(this.outStart, this.outLen);
    this.outStart = this.outLen;
    const stream = this.outStream;
    if (stream && this.client && (this.client.stream as unknown) === stream) stream.write(chunk);
  }

  private pump() {
    while (this.state === 'connected' && this.waitHead < this.waiting.length && this.pending.size < this.window) {
      const w = this.waiting[this.waitHead];
      (this.waiting as any)[this.waitHead++] = undefined;
      this.publishNow(w.topic, w.body, w.qos, w.cb);
    }
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitHead);
      this.waitHead = 0;
    }
  }

  /** Publishes the offline state (a clean disconnect suppresses the last will), then disconnects. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    if (!client) return;
    this.flushOut();
    if (this.o.stateTopic && client.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        client.publish(this.o.stateTopic as string, this.stateMessage('offline'), { qos: 1, retain: true }, () => { clearTimeout(t); resolve(); });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { client.end(true, () => resolve()); }, timeoutMs);
      client.end(false, {}, () => { clearTimeout(t); resolve(); });
    });
    this.failAll('endpoint closed');
    this.client = null;
    this.setState('disconnected');
  }
}
