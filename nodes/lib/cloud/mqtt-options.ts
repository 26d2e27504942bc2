// How we ask mqtt.js for a connection: every choice here is a public mqtt.js client option.
import { Readable } from 'stream';
import type { IClientOptions, IStore } from 'mqtt';

/** Unsubscribing from this (never subscribed) filter is our liveness probe: the broker must answer, nothing changes. */
export const PROBE_TOPIC = 'genix/liveness-probe';

/**
 * Clean session: every connection gets a new mqtt.js client and nothing is ever resent, so nothing needs
 * storing (mqtt.js's default store would keep a copy of every publish in flight).
 */
class NoStoreImpl {
  put(_packet: unknown, cb: (err?: Error) => void) { cb(); return this; }
  del(packet: unknown, cb: (err: Error | null, packet?: unknown) => void) { cb(null, packet); return this; }
  get(_packet: unknown, cb: (err: Error | null, packet?: unknown) => void) { cb(new Error('not stored')); return this; }
  createStream() { return Readable.from([]); }
  close(cb: () => void) { cb(); }
}

// mqtt.js types its store's stream with readable-stream's Readable; node's is the same at run time
export const noStore = (): IStore => new NoStoreImpl() as unknown as IStore;

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

interface Wanted {
  clientId: string;
  protocolVersion: 4 | 5;
  keepaliveSec: number;
  clean: boolean;
  sessionExpirySec: number;
  connectTimeoutMs: number;
  username?: string;
  password?: string;
  tls?: Record<string, unknown>;
}

export function clientOptions(o: Wanted, store: IStore): IClientOptions {
  const opts: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: o.protocolVersion,
    keepalive: o.keepaliveSec,
    clean: o.clean,
    connectTimeout: o.connectTimeoutMs,
    reconnectPeriod: 0, // our own backoff and takeover detection, see MqttConnection
    queueQoSZero: false,
    // a ping every keepalive period instead of re-arming a timer for every publish
    reschedulePings: false,
    outgoingStore: store,
    // mqtt.js logs a dozen debug lines per publish; skip their cost unless DEBUG asks for them
    ...(/mqttjs/.test(process.env.DEBUG ?? '') ? {} : { log: () => undefined }),
    ...(o.tls ?? {}),
  };
  if (o.protocolVersion === 5) {
    // mqtt.js keeps within the broker's Topic Alias Maximum (none when the broker allows none)
    opts.autoAssignTopicAlias = true;
    if (!o.clean) opts.properties = { sessionExpiryInterval: o.sessionExpirySec };
  }
  if (o.username) opts.username = o.username;
  if (o.password) opts.password = o.password;
  return opts;
}
