// Publishes readings to Google Cloud Pub/Sub through Google's client, loaded only when this mode is used.
// One reading = one Pub/Sub message (data: the reading's JSON; attributes: chosen reading fields;
// ordering key: a template on the reading). The client batches within Pub/Sub's request limits.
import { EventEmitter } from 'events';
import path from 'path';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { SendResult, classifyGrpcError, redact } from './errors';
import { compileTopic, TopicFn } from './topic';
import type { Framing, LinkState, Problem, Transport } from './transport';

/** Pub/Sub's own limits on one publish request; the client never sends more than 1,000 messages / 9 MiB. */
export const PUBSUB_MAX_MESSAGES = 1000;
export const PUBSUB_MAX_REQUEST_BYTES = 10 * 1000 * 1000;
const CLIENT_MAX_BATCH_BYTES = 9 * 1024 * 1024;
const MAX_ATTRIBUTE_VALUE = 1024;
const RECONNECT_MAX_MS = 5000;
/** reading and alarm fields a subscriber can filter on without parsing the data */
export const DEFAULT_ATTRIBUTES = 'sensorId,measurement,quality,plantId,lineId,kind,state,severity';

export const PUBSUB_PACKAGE = '@google-cloud/pubsub';
export const PUBSUB_MISSING = `the Google Cloud Pub/Sub client is not installed: run "npm install ${PUBSUB_PACKAGE}" in the Node-RED user directory (e.g. ~/.node-red) and restart Node-RED`;

export interface PubsubSenderOptions {
  projectId: string;
  /** used when the publisher's topic template names none */
  defaultTopic?: string;
  /** service-account key file contents (JSON); none = Application Default Credentials or the emulator */
  credentialsJson?: string;
  /** host:port of an emulator (or a private endpoint); PUBSUB_EMULATOR_HOST is used when this is empty */
  apiEndpoint?: string;
  /** ordering key template such as "{sensorId}"; empty = no ordering */
  orderingKey?: string;
  /** reading fields copied into message attributes (scalars only) */
  attributes?: string[];
  /** longest one publish may take, client retries included */
  timeoutMs?: number;
  batchMaxMessages?: number;
  batchMaxMs?: number;
  /** readings waiting for an answer at once; more are refused as transient */
  maxInFlight?: number;
}

interface PubsubModule {
  PubSub: new (options: Record<string, unknown>) => PubSub;
}

/** Loads the client on first use; a missing package becomes a clear, actionable error. */
export function loadPubsub(): PubsubModule {
  try {
    return require(PUBSUB_PACKAGE) as PubsubModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new Error(PUBSUB_MISSING);
    throw e;
  }
}

/** Whether the client talks to an emulator (plain gRPC, no credentials) rather than Google's service. */
export function isEmulatorEndpoint(apiEndpoint: string | undefined): boolean {
  const host = apiEndpoint || process.env.PUBSUB_EMULATOR_HOST || '';
  return host !== '' && !/\.googleapis\.com(:\d+)?$/.test(host.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
}

/**
 * Client options for an emulator: an auth client that asks nothing of anyone, so the client never looks for
 * Application Default Credentials (that probes the cloud metadata server, which a plant network does not have).
 */
export function emulatorAuth(): Record<string, unknown> {
  const base = path.dirname(require.resolve(PUBSUB_PACKAGE));
  const auth = require(require.resolve('google-auth-library', { paths: [base] }));
  return { authClient: new auth.PassThroughClient() };
}

/** Checks a service-account key without ever echoing its contents. */
export function parseServiceAccount(text: string): { client_email: string; private_key: string; project_id?: string } {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error('the service-account key is not valid JSON (paste the whole key file downloaded from the Google Cloud console)');
  }
  if (!j || typeof j !== 'object' || typeof j.client_email !== 'string' || typeof j.private_key !== 'string') {
    throw new Error('the service-account key lacks client_email or private_key (paste the whole key file of type "service_account")');
  }
  return j;
}

export const PUBSUB_TOPIC_NAME = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** Message attributes from a reading's scalar fields (Pub/Sub takes strings only). */
export function attributesOf(item: any, fields: string[]): Record<string, string> | undefined {
  if (!fields.length || !item || typeof item !== 'object') return undefined;
  let out: Record<string, string> | undefined;
  for (const f of fields) {
    const v = item[f];
    if (v === undefined || v === null || typeof v === 'object') continue;
    (out ??= {})[f] = String(v).slice(0, MAX_ATTRIBUTE_VALUE);
  }
  return out;
}

export class PubsubSender extends EventEmitter implements Transport {
  readonly kind = 'pubsub' as const;
  readonly framing: Framing = 'json';
  state: LinkState = 'connecting';
  readonly problem: Problem = '';
  private readonly client: PubSub;
  private readonly topics = new Map<string, Topic>();
  private readonly keyFn: TopicFn | null;
  private readonly fields: string[];
  private readonly secrets: string[];
  private readonly o: Required<Pick<PubsubSenderOptions, 'timeoutMs' | 'batchMaxMessages' | 'batchMaxMs' | 'maxInFlight'>> & PubsubSenderOptions;
  private inFlight = 0;
  private closed = false;

  constructor(options: PubsubSenderOptions) {
    super();
    this.o = { timeoutMs: 10000, batchMaxMessages: 100, batchMaxMs: 10, maxInFlight: 10000, ...options };
    const projectId = options.projectId.trim();
    if (!projectId) throw new Error('no Google Cloud project id configured');
    if (options.defaultTopic && !PUBSUB_TOPIC_NAME.test(options.defaultTopic)) throw new Error(`"${options.defaultTopic}" is not a Pub/Sub topic name (3–255 characters, starting with a letter)`);
    this.keyFn = options.orderingKey ? compileTopic(options.orderingKey) : null;
    this.fields = (options.attributes ?? []).map((f) => f.trim()).filter(Boolean);
    // gRPC's reconnect wait grows to 2 minutes by default: a gateway should notice a returning cloud within seconds
    const clientOptions: Record<string, unknown> = { projectId, 'grpc.max_reconnect_backoff_ms': RECONNECT_MAX_MS };
    this.secrets = [];
    if (options.credentialsJson && options.credentialsJson.trim()) {
      const key = parseServiceAccount(options.credentialsJson);
      this.secrets.push(key.private_key);
      clientOptions.credentials = { client_email: key.client_email, private_key: key.private_key };
    }
    if (options.apiEndpoint) clientOptions.apiEndpoint = options.apiEndpoint;
    const mod = loadPubsub();
    if (!clientOptions.credentials && isEmulatorEndpoint(options.apiEndpoint)) Object.assign(clientOptions, emulatorAuth());
    this.client = new mod.PubSub(clientOptions);
  }

  private setState(s: LinkState, detail?: string) {
    if (s === this.state) return;
    this.state = s;
    this.emit('state', s, detail);
  }

  /** One publish request carries at most 10 MB; the publisher splits larger bodies into readings first. */
  bodyLimit(_topic: string): number {
    return CLIENT_MAX_BATCH_BYTES;
  }

  refusal(): SendResult | null {
    if (this.closed) return { ok: false, error: 'endpoint closed' };
    return null;
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = this.client.topic(name, {
        batching: {
          maxMessages: Math.min(PUBSUB_MAX_MESSAGES, Math.max(1, this.o.batchMaxMessages)),
          maxBytes: CLIENT_MAX_BATCH_BYTES,
          maxMilliseconds: Math.max(0, this.o.batchMaxMs),
        },
        messageOrdering: !!this.keyFn,
        // the client retries transient codes inside this bound, then we answer and the buffer retries later
        gaxOpts: { timeout: this.o.timeoutMs },
      });
      this.topics.set(name, t);
    }
    return t;
  }

  /** Splits a body of JSON readings into one Pub/Sub message each; anything else goes as one message. */
  private messages(body: string | Buffer): Array<{ data: Buffer; attributes?: Record<string, string>; orderingKey?: string }> {
    const text = typeof body === 'string' ? body : null;
    let parsed: unknown;
    if (text !== null && (text.startsWith('{') || text.startsWith('['))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (parsed === undefined) return [{ data: Buffer.isBuffer(body) ? body : Buffer.from(body) }];
    const items = Array.isArray(parsed) ? parsed : [parsed];
    return items.map((item) => {
      const m: { data: Buffer; attributes?: Record<string, string>; orderingKey?: string } = {
        data: Buffer.from(Array.isArray(parsed) ? JSON.stringify(item) : (text as string)),
      };
      const a = attributesOf(item, this.fields);
      if (a) m.attributes = a;
      if (this.keyFn) m.orderingKey = this.keyFn(item);
      return m;
    });
  }

  send(topic: string, body: string | Buffer, _qos: 0 | 1, cb: (r: SendResult) => void): void {
    if (this.closed) return cb({ ok: false, error: 'endpoint closed' });
    const name = topic || this.o.defaultTopic || '';
    if (!name) return cb({ ok: false, permanent: true, error: 'no Pub/Sub topic: set the topic on the publisher or a default topic on the endpoint' });
    if (!PUBSUB_TOPIC_NAME.test(name)) return cb({ ok: false, permanent: true, error: `"${name}" is not a Pub/Sub topic name (3–255 letters, digits, - _ . ~ + %, starting with a letter)` });
    const msgs = this.messages(body);
    if (this.inFlight + msgs.length > this.o.maxInFlight) return cb({ ok: false, error: `more than ${this.o.maxInFlight} messages waiting for Pub/Sub`, retryAfterMs: 1000 });
    for (const m of msgs) {
      if (m.data.length > PUBSUB_MAX_REQUEST_BYTES) return cb({ ok: false, permanent: true, error: `message of ${m.data.length} bytes is larger than Pub/Sub's 10 MB limit` });
    }
    this.inFlight += msgs.length;
    const t = this.topic(name);
    // the client refuses some messages at once (a throw): that is about the message itself, retrying cannot help
    const refusedAtOnce = new Set<number>();
    const publish = (m: (typeof msgs)[number], i: number): Promise<string> => {
      try {
        return t.publishMessage(m);
      } catch (e) {
        refusedAtOnce.add(i);
        return Promise.reject(e);
      }
    };
    Promise.allSettled(msgs.map(publish)).then((results) => {
      this.inFlight -= msgs.length;
      const ids: string[] = [];
      let failure: SendResult | null = null;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          ids.push(r.value);
          return;
        }
        const f = refusedAtOnce.has(i) ? { ok: false, permanent: true, error: redact(String(r.reason?.message ?? r.reason), this.secrets) } : classifyGrpcError(r.reason, this.secrets);
        // a failed ordering key pauses that key in the client: resume so the buffer's retry can go out
        const key = msgs[i].orderingKey;
        if (key) t.resumePublishing(key);
        // several failures: permanent only when every one is
        if (!failure) failure = f;
        else if (!f.permanent) delete failure.permanent;
      });
      if (this.closed) return cb(failure ?? { ok: false, error: 'endpoint closed' });
      if (!failure) {
        this.setState('connected');
        return cb({ ok: true, ids });
      }
      const fail = failure as SendResult;
      if (fail.permanent) this.setState('connected');
      else this.setState('disconnected', fail.error);
      if (ids.length) fail.error = `${fail.error} (${ids.length} of ${msgs.length} messages were published and are sent again)`;
      cb(fail);
    }, (e) => {
      this.inFlight -= msgs.length;
      cb({ ok: false, error: redact(String(e?.message ?? e), this.secrets) });
    });
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    // flush what the client batches, then close its channels
    await Promise.allSettled([...this.topics.values()].map((t) => t.flush()));
    this.closed = true;
    await this.client.close().catch(() => undefined);
    this.setState('disconnected');
  }
}
