// POSTs readings to an HTTP(S) ingestion endpoint: gzip, bearer/API-key auth, timeouts, Retry-After.
import { EventEmitter } from 'events';
import http from 'http';
import https from 'https';
import zlib from 'zlib';
import { OK, SendResult, classifyHttpStatus, redact } from './errors';
import type { Framing, LinkState, Problem, Transport } from './transport';

export interface HttpSenderOptions {
  url: string;
  framing?: Framing;
  gzip?: boolean;
  /** sent as `Authorization: Bearer <token>`, or in `apiKeyHeader` when that is set */
  token?: string;
  apiKeyHeader?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** requests on the wire at once; more wait in a bounded queue */
  maxInFlight?: number;
  maxQueued?: number;
  tls?: Record<string, unknown>;
}

interface Waiting {
  body: string | Buffer;
  cb: (r: SendResult) => void;
}

export class HttpSender extends EventEmitter implements Transport {
  readonly kind = 'http' as const;
  readonly framing: Framing;
  state: LinkState = 'connected';
  readonly problem: Problem = '';
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly o: HttpSenderOptions & { timeoutMs: number; maxInFlight: number; maxQueued: number };
  private active = 0;
  private waiting: Waiting[] = [];
  /** while the server is unreachable or asked us to wait, refuse at once instead of piling up */
  private blockedUntil = 0;
  private probing = false;
  private closed = false;
  private requests = new Set<http.ClientRequest>();

  constructor(options: HttpSenderOptions) {
    super();
    this.o = { timeoutMs: 10000, maxInFlight: 8, maxQueued: 10000, ...options };
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${this.url.protocol} (use http: or https:)`);
    this.framing = options.framing ?? 'json';
    const agentOpts = { keepAlive: true, maxSockets: this.o.maxInFlight, ...(options.tls ?? {}) };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.headers = { 'content-type': this.framing === 'ndjson' ? 'application/x-ndjson' : 'application/json' };
    if (options.gzip) this.headers['content-encoding'] = 'gzip';
    if (options.token) {
      if (options.apiKeyHeader) this.headers[options.apiKeyHeader.toLowerCase()] = options.token;
      else this.headers.authorization = `Bearer ${options.token}`;
    } else if (options.username) {
      this.headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  get inFlight(): number {
    return this.active + this.waiting.length;
  }

  private setState(s: LinkState, detail?: string) {
    if (s === this.state) return;
    this.state = s;
    this.emit('state', s, detail);
  }

  /** HTTP states no size limit up front; a 413 answer is permanent. */
  bodyLimit(_topic: string): number {
    return 0;
  }

  refusal(): SendResult | null {
    if (this.closed) return { ok: false, error: 'endpoint closed' };
    return null;
  }

  send(_topic: string, body: string | Buffer, _qos: 0 | 1, cb: (r: SendResult) => void): void {
    if (this.closed) return cb({ ok: false, error: 'endpoint closed' });
    const now = Date.now();
    if (now < this.blockedUntil) {
      // one probe at a time finds out when the server is back; the rest are answered at once
      if (this.probing || this.active > 0) return cb({ ok: false, error: `server unavailable, retry in ${this.blockedUntil - now} ms`, retryAfterMs: this.blockedUntil - now });
      this.probing = true;
      return this.post(body, (r) => { this.probing = false; cb(r); });
    }
    if (this.active >= this.o.maxInFlight) {
      if (this.waiting.length >= this.o.maxQueued) return cb({ ok: false, error: 'too many requests waiting for the server' });
      this.waiting.push({ body, cb });
      return;
    }
    this.post(body, cb);
  }

  private next() {
    while (this.waiting.length && this.active < this.o.maxInFlight) {
      const w = this.waiting.shift() as Waiting;
      if (Date.now() < this.blockedUntil) w.cb({ ok: false, error: 'server unavailable', retryAfterMs: this.blockedUntil - Date.now() });
      else this.post(w.body, w.cb);
    }
  }

  private post(body: string | Buffer, cb: (r: SendResult) => void) {
    this.active++;
    let answered = false;
    const finish = (r: SendResult) => {
      if (answered) return;
      answered = true;
      this.active--;
      if (r.ok) {
        this.blockedUntil = 0;
        this.setState('connected');
      } else if (!r.permanent) {
        const wait = r.retryAfterMs ?? (r.error?.startsWith('HTTP') ? 0 : 1000);
        if (wait > 0) this.blockedUntil = Date.now() + wait;
        if (!r.error?.startsWith('HTTP')) this.setState('disconnected', r.error);
      } else {
        this.setState('connected');
      }
      cb(r);
      this.next();
    };
    const write = (payload: Buffer | string) => {
      const req = (this.url.protocol === 'https:' ? https : http).request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'content-length': String(Buffer.byteLength(payload)) },
        timeout: this.o.timeoutMs,
      });
      this.requests.add(req);
      req.on('response', (res) => {
        res.resume(); // the body is not needed, but must be drained to reuse the socket
        res.on('end', () => finish(classifyHttpStatus(res.statusCode ?? 0, res.headers['retry-after'])));
        res.on('error', (e) => finish({ ok: false, error: this.clean(e) }));
      });
      req.on('timeout', () => req.destroy(new Error(`no response within ${this.o.timeoutMs} ms`)));
      req.on('error', (e) => finish({ ok: false, error: this.clean(e) }));
      req.on('close', () => { this.requests.delete(req); finish({ ok: false, error: 'connection closed before a response' }); });
      req.end(payload);
    };
    if (this.o.gzip) zlib.gzip(body, (err, zipped) => (err ? finish({ ok: false, error: err.message, permanent: true }) : write(zipped)));
    else write(body);
  }

  private clean(e: Error): string {
    return redact(e.message || String(e), [this.o.token, this.o.password]);
  }

  async stop(): Promise<void> {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.cb({ ok: false, error: 'endpoint closed' });
    for (const r of this.requests) r.destroy(new Error('endpoint closed'));
    this.agent.destroy();
    this.setState('disconnected');
  }
}

export { OK };
