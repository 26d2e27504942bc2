// One mqtt.js client per endpoint, shared by every publisher: truthful per-message acknowledgements through
// mqtt.js's public API only (publish with a callback); speed comes from our window and per-turn batching.
import { EventEmitter } from 'events';
import mqtt, { MqttClient, IClientOptions, IStore, Store } from 'mqtt';
import { PACKET_TOO_LARGE, SendResult, redact } from './errors';
import type { Framing, LinkState, Problem, Transport } from './transport';
import { Backoff } from '../common/backoff';
import { BrokerLimits, NO_LIMITS, limitsFromConnack, payloadLimit } from './broker-limits';
import { AnswerWatch, TakeoverDetector, SESSION_TAKEN_OVER } from './mqtt-health';
import { noStore, PROBE_TOPIC, clientOptions, MqttConnectionOptions } from './mqtt-options';
import { PublishWindow } from './publish-window';

export type { MqttConnectionOptions };

const ms = (n: number) => (n < 10000 ? `${n} ms` : `${Math.round(n / 1000)} s`);

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
  private stopping = false;
  private readonly retry: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly window: PublishWindow;
  /** the last publish sent at a moment of the watchdog: still unanswered one period later means stuck */
  private checkpoint = { seq: 0, at: 0 };
  /** the persistent session holds a publish the broker refuses: answer what it holds and start a new session */
  private dropSession = false;
  /** the current connection is being closed by us (half-open, stuck acknowledgement) */
  private abandoned = false;
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
    // MQTT packet ids are 16 bits: more publishes in flight would reuse an id still waiting for its PUBACK
    this.o.maxInFlight = Math.max(1, Math.min(65535, this.o.maxInFlight));
    this.retry = new Backoff(this.o.reconnectMinMs, this.o.reconnectMaxMs);
    this.takeover = new TakeoverDetector(this.o.stableMs);
    this.watch = new AnswerWatch(this.o.answerTimeoutMs);
    this.window = new PublishWindow(this.o.maxInFlight, this.o.maxQueued, () => (this.state === 'connected' ? this.client : null), () => this.watch.answered(), () => this.lost());
  }

  get clientId(): string {
    return this.o.clientId;
  }

  get inFlight(): number {
    return this.window.inFlight;
  }

  get queued(): number {
    return this.window.queued;
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
      if (/invalid puback reason code/i.test(this.lastError) && this.state === 'connected') {
        // an MQTT 5 reason code PUBACK may not carry; Mosquitto's message_size_limit answers 0x95 this way.
        // The largest publish in flight is the likely one: retried split (never dead-lettered on a guess)
        this.window.failLargest({ ok: false, tooLarge: 'likely', error: 'the broker refused a publish with a reason code not allowed in PUBACK (e.g. Mosquitto\'s message_size_limit: packet too large)' });
        // a persistent session would resend the refused publish forever: start a new one
        this.dropSession = true;
        this.abandon(`the broker sent a PUBACK reason code that MQTT 5 does not allow`);
        return;
      }
      // a broker without retain or QoS 1 refuses our last will: connect again without it
      if (err?.code === 0x9a) this.willRetain = false;
      if (err?.code === 0x9b) this.willQos = 0;
      this.emit('link-error', this.lastError);
    });
    client.on('disconnect', (packet: { reasonCode?: number }) => {
      if (client !== this.client) return;
      this.disconnectReason = packet?.reasonCode;
      if (packet?.reasonCode) this.lastError = `the broker disconnected us (reason code 0x${packet.reasonCode.toString(16)})`;
      if (packet?.reasonCode === PACKET_TOO_LARGE) {
        // a packet over a limit the broker did not state: the largest publish in flight goes again split, not as it was
        this.window.failLargest({ ok: false, tooLarge: 'likely', error: `${this.lastError}: packet too large` });
        this.dropSession = true;
      }
    });
    client.on('close', () => { if (client === this.client) this.onClose(client); });
  }

  private onConnect(client: MqttClient, connack: unknown) {
    const now = Date.now();
    this.limits = limitsFromConnack(connack);
    // an MQTT 5 broker may allow fewer unacknowledged publishes than we would keep; exceeding it costs the connection
    this.window.size = Math.max(1, Math.min(this.o.maxInFlight, this.limits.receiveMaximum));
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
    this.checkpoint = { seq: 0, at: 0 };
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
    this.window.pump();
  }

  private checkAnswers() {
    const client = this.client;
    if (!client || this.state !== 'connected') return;
    const expecting = this.window.inFlight > 0 || this.o.keepaliveSec === 0;
    const verdict = this.watch.check(Date.now(), expecting);
    if (verdict === 'probe') {
      // any answer proves the broker reads our writes; an UNSUBSCRIBE changes nothing at the broker
      client.unsubscribe(PROBE_TOPIC, () => { if (client === this.client) this.watch.answered(); });
    } else if (verdict === 'dead') {
      this.setProblem('unresponsive');
      this.abandon(`no answer from the broker for ${ms(2 * this.o.answerTimeoutMs)}: connection half-open or broker stalled`, true);
      return;
    }
    // the broker answers, but one publish never gets its PUBACK: mqtt.js could not read it, or the broker lost it
    const now = Date.now();
    const every = 2 * this.o.answerTimeoutMs;
    if (now - this.checkpoint.at < every) return;
    if (this.checkpoint.at && this.window.oldest() <= this.checkpoint.seq) {
      this.abandon(`a publish got no acknowledgement within ${ms(every)} while the broker answered others`);
      return;
    }
    this.checkpoint = { seq: this.window.seq, at: now };
  }

  /** Gives up on the current connection: no more publishes on it, the close event answers and reconnects. */
  private abandon(why: string, warn = false) {
    const client = this.client;
    if (!client) return;
    this.lastError = why;
    this.abandoned = true;
    if (warn) this.emit('warning', `${why}; reconnecting`);
    this.emit('link-error', why);
    this.setState('disconnected', why);
    client.end(true);
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
    // a connection we gave up on ourselves says nothing about another client with our id
    if (this.abandoned) this.takeover.forget();
    else if (!this.stopping && this.takeover.closed(Date.now(), this.disconnectReason)) {
      const sure = this.disconnectReason === SESSION_TAKEN_OVER;
      this.setProblem('takeover', `${sure ? 'the broker handed our session to another connection' : `the broker closed the connection right after connecting ${this.takeover.shortCloses} times in a row`}: another client is probably using the client id "${this.o.clientId}". On a fleet leave Client ID empty so that each gateway gets its own.`);
    }
    this.disconnectReason = undefined;
    this.abandoned = false;
    this.window.failQueued(why);
    if (this.o.clean || this.stopping || this.dropSession) {
      // clean session: nothing will be resent, so every unacknowledged publish is answered now and the flow retries
      this.window.failPending(why);
      if (!this.stopping) this.discard(client);
      if (this.dropSession) this.sessionStore = null;
      this.dropSession = false;
    } else if (this.window.inFlight) {
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
      this.window.failPending(`not acknowledged within the session expiry (${this.o.sessionExpirySec} s)`);
      this.discard(client);
      this.sessionStore = null;
      // the discarded client may have been mid-attempt: make sure a fresh one follows
      this.scheduleReconnect();
    }, this.o.sessionExpirySec * 1000);
    this.expiryTimer.unref();
  }

  /** Drops a client for good; its late callbacks find nothing left to answer. */
  private discard(client: MqttClient) {
    if (this.client === client) this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
  }

  private lost(): SendResult {
    return { ok: false, error: `connection lost before acknowledgement${this.lastError ? `: ${this.lastError}` : ''}` };
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
    this.window.add({ topic, body, qos, cb, mergeLimit });
  }

  /** Publishes the offline state (a clean disconnect suppresses the last will), then disconnects. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopping = true;
    for (const t of ['reconnectTimer', 'stableTimer', 'watchTimer', 'expiryTimer'] as const) this.clearTimer(t);
    this.window.failQueued('endpoint closed');
    const client = this.client;
    if (!client) {
      this.window.failPending('endpoint closed');
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
      // nothing to wait for on a lost connection (a persistent session may still hold publishes)
      if (!client.connected) {
        client.end(true, () => resolve());
        return;
      }
      const t = setTimeout(() => { client.end(true, () => resolve()); }, timeoutMs);
      client.end(false, {}, () => { clearTimeout(t); resolve(); });
    });
    this.window.failPending('endpoint closed');
    if (this.client === client) this.client = null;
    this.setState('disconnected');
  }
}
