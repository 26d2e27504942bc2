// The edge node's MQTT session: its own mqtt.js client whose will is NDEATH(bdSeq), births on every
// (re)connect and host return — NBIRTH first, then every DBIRTH, then data —, rebirth on NCMD, and a
// delivery answer per publish only after its PUBACK.
import { EventEmitter } from 'events';
import mqtt, { MqttClient } from 'mqtt';
import { Backoff } from '../common/backoff';
import { SendResult, classifyMqttError, redact } from '../cloud/errors';
import { clientOptions, noStore } from '../cloud/mqtt-options';
import { decode } from './codec';
import { EdgeNodeModel, Outbound, REBIRTH, Sample } from './edge-node';
import { StateVersion, parseState, stateTopic, topicOf } from './topics';

export interface SessionOptions {
  url: string;
  clientId: string;
  group: string;
  edgeNode: string;
  /** primary host application id: publish only while its STATE says online ('' = no host) */
  hostId?: string;
  stateVersion?: StateVersion;
  username?: string;
  password?: string;
  tls?: Record<string, unknown>;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** connecting → (waiting-host) → online; disconnected between attempts. */
export type Phase = 'connecting' | 'waiting-host' | 'online' | 'disconnected' | 'stopped';

interface Pending { fail(r: SendResult): void }

export class SparkplugSession extends EventEmitter {
  phase: Phase = 'disconnected';
  lastError = '';
  readonly model: EdgeNodeModel;
  /** time of the births of the current session: readings older than this were held back during an outage */
  bornAt = Infinity;
  /** births sent, for the status and tests */
  births = 0;
  private client: MqttClient | null = null;
  private readonly pending = new Set<Pending>();
  private readonly retry: Backoff;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** timestamp of the newest 3.0 STATE seen */
  private hostStateAt = 0;
  private readonly o: Required<Omit<SessionOptions, 'username' | 'password' | 'tls'>> & SessionOptions;

  constructor(options: SessionOptions) {
    super();
    this.o = { hostId: '', stateVersion: '3.0', keepaliveSec: 30, connectTimeoutMs: 10000, reconnectMinMs: 1000, reconnectMaxMs: 30000, ...options };
    this.model = new EdgeNodeModel(this.o.group, this.o.edgeNode);
    this.retry = new Backoff(this.o.reconnectMinMs, this.o.reconnectMaxMs);
  }

  /** The STATE topic awaited ('' without a primary host). */
  get hostStateTopic(): string {
    return this.o.hostId ? stateTopic(this.o.hostId, this.o.stateVersion) : '';
  }

  get stateVersion(): StateVersion {
    return this.o.stateVersion;
  }

  private setPhase(p: Phase) {
    if (p === this.phase) return;
    this.phase = p;
    this.emit('phase', p);
  }

  start(): void {
    if (this.client || this.timer) return;
    this.stopping = false;
    this.connect();
  }

  private connect() {
    const bdSeq = this.model.nextSession();
    const opts = clientOptions({
      clientId: this.o.clientId, protocolVersion: 4, keepaliveSec: this.o.keepaliveSec, clean: true, sessionExpirySec: 0,
      connectTimeoutMs: this.o.connectTimeoutMs, username: this.o.username, password: this.o.password, tls: this.o.tls,
    }, noStore());
    // the broker publishes our NDEATH, with this session's bdSeq, when the connection dies without a DISCONNECT
    const death = this.model.ndeath();
    opts.will = { topic: death.topic, payload: death.payload, qos: 1, retain: false };
    this.setPhase('connecting');
    const client = mqtt.connect(this.o.url, opts);
    this.client = client;
    this.emit('session', bdSeq);
    client.on('connect', () => { if (client === this.client) this.onConnect(client); });
    client.on('message', (topic, payload) => { if (client === this.client) this.onMessage(topic, payload); });
    client.on('error', (err) => {
      if (client !== this.client) return;
      this.lastError = redact(err?.message ?? String(err), [this.o.password]);
      this.emit('link-error', this.lastError);
    });
    client.on('close', () => { if (client === this.client) this.onClose(client); });
  }

  private onConnect(client: MqttClient) {
    this.lastError = '';
    this.retry.reset();
    const g = this.o.group;
    const e = this.o.edgeNode;
    const topics = [topicOf({ group: g, type: 'NCMD', edgeNode: e }), `${topicOf({ group: g, type: 'DCMD', edgeNode: e })}/+`];
    if (this.o.hostId) topics.push(this.hostStateTopic);
    if (this.o.hostId) this.setPhase('waiting-host');
    client.subscribe(topics, { qos: 1 }, (err) => {
      if (client !== this.client) return;
      if (err) {
        this.lastError = `subscribe refused: ${err.message}`;
        client.end(true);
        return;
      }
      // without a primary host we are born at once; with one, on its retained (or next) STATE online
      if (!this.o.hostId) this.birth(client, true);
    });
  }

  private onMessage(topic: string, payload: Buffer) {
    const client = this.client as MqttClient;
    if (this.o.hostId && topic === this.hostStateTopic) {
      const state = parseState(payload, this.o.stateVersion);
      if (!state) {
        this.emit('link-error', `ignored a STATE on ${topic} that is not a Sparkplug ${this.o.stateVersion} STATE payload`);
        return;
      }
      // Sparkplug 3.0: a STATE older than the last one seen (a delayed retained copy) says nothing
      if (state.timestamp !== undefined) {
        if (state.timestamp < this.hostStateAt) return;
        this.hostStateAt = state.timestamp;
      }
      if (state.online && this.phase === 'waiting-host') this.birth(client, true);
      else if (!state.online && this.phase === 'online') this.hostLost(client);
      return;
    }
    if (topic.includes('/NCMD/') && this.phase === 'online') {
      let rebirth = false;
      try {
        rebirth = (decode(payload).metrics ?? []).some((m) => m.name === REBIRTH && m.value === true);
      } catch (err) {
        this.emit('link-error', `NCMD that is not a Sparkplug B payload: ${(err as Error).message}`);
      }
      if (rebirth) {
        this.emit('rebirth');
        this.birth(client, false);
      }
    }
  }

  /** NBIRTH, then every DBIRTH, on the same connection and so in this order at the host. */
  private birth(client: MqttClient, fresh: boolean) {
    const out: Outbound[] = [this.model.nbirth()];
    for (const d of this.model.deviceNames) out.push(this.model.dbirth(d));
    for (const m of out) this.send(client, m, () => undefined);
    if (fresh) this.bornAt = Date.now();
    this.births++;
    this.setPhase('online');
    this.emit('birth', out.length - 1);
  }

  /** Sparkplug 3.0: the host went offline, so we end this session (NDEATH) and wait for it in a new one. */
  private hostLost(client: MqttClient) {
    this.lastError = `primary host ${this.o.hostId} went offline`;
    this.setPhase('waiting-host');
    const death = this.model.ndeath();
    client.publish(death.topic, death.payload, { qos: 1 }, () => {
      if (client === this.client) client.end(true);
    });
  }

  private onClose(client: MqttClient) {
    this.fail(`connection lost before acknowledgement${this.lastError ? `: ${this.lastError}` : ''}`);
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    if (this.client === client) this.client = null;
    this.bornAt = Infinity;
    if (this.stopping) {
      this.setPhase('stopped');
      return;
    }
    this.setPhase('disconnected');
    const hostLeft = this.lastError.startsWith('primary host');
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopping) this.connect();
    }, hostLeft ? 0 : this.retry.next());
  }

  private fail(error: string) {
    const all = [...this.pending];
    this.pending.clear();
    for (const p of all) p.fail({ ok: false, error });
  }

  private send(client: MqttClient, m: Outbound, cb: (r: SendResult) => void) {
    let settled = false;
    const p: Pending = { fail: (r) => { if (!settled) { settled = true; cb(r); } } };
    this.pending.add(p);
    client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
      this.pending.delete(p);
      if (settled) return;
      settled = true;
      cb(err ? classifyMqttError(err) : { ok: true });
    });
  }

  /** Why publishing is not possible now (transient: the buffer keeps the data), or null. */
  refusal(): SendResult | null {
    if (this.phase === 'online' && this.client) return null;
    if (this.phase === 'waiting-host') return { ok: false, error: `waiting for primary host "${this.o.hostId}" to be online (Sparkplug ${this.o.stateVersion} STATE on ${this.hostStateTopic})` };
    return { ok: false, error: `not connected to the broker (${this.phase}${this.lastError ? `: ${this.lastError}` : ''})` };
  }

  /**
   * Publishes samples: a DBIRTH first for every device with a new metric, then one DDATA per device.
   * `replay`: the samples come from the store-and-forward backlog (sent with is_historical).
   */
  publish(samples: Sample[], replay: boolean, cb: (r: SendResult) => void): void {
    const refused = this.refusal();
    if (refused) {
      cb(refused);
      return;
    }
    const client = this.client as MqttClient;
    for (const s of samples) if (replay || s.ts < this.bornAt) s.historical = true;
    const out: Outbound[] = [];
    for (const d of this.model.learn(samples)) out.push(this.model.dbirth(d));
    const byDevice = new Map<string, Sample[]>();
    for (const s of samples) {
      const list = byDevice.get(s.device);
      if (list) list.push(s);
      else byDevice.set(s.device, [s]);
    }
    for (const [d, list] of byDevice) out.push(this.model.ddata(d, list));
    let left = out.length;
    let failed: SendResult | null = null;
    for (const m of out) {
      this.send(client, m, (r) => {
        if (!r.ok && !failed) failed = r;
        if (--left === 0) cb(failed ?? r);
      });
    }
  }

  /** Clean end: an explicit NDEATH (a DISCONNECT suppresses the will), then disconnect. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    if (!client) {
      this.setPhase('stopped');
      return;
    }
    if (client.connected) {
      const death = this.model.ndeath();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        client.publish(death.topic, death.payload, { qos: 1 }, () => { clearTimeout(t); resolve(); });
      });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => client.end(true, () => resolve()), timeoutMs);
      client.end(false, {}, () => { clearTimeout(t); resolve(); });
    });
    this.fail('Sparkplug node closed');
    if (this.client === client) this.client = null;
    this.setPhase('stopped');
  }
}
