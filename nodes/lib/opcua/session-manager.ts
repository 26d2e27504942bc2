// One OPC-UA client + session per endpoint, shared by every item group (poller) that registers.
// Owns reconnection: node-opcua repairs the session first; when that fails or the watchdog sees
// neither data nor keep-alive in time, the client is rebuilt and every subscription recreated
// from this manager's own registry.
import { EventEmitter } from 'events';
import { OPCUAClient, ClientSession, MessageSecurityMode, SecurityPolicy, DataValue } from 'node-opcua-client';
import type { Reading } from '../types';
import { Backoff } from '../common/backoff';
import { resolveNodeId } from './nodeid';
import { readingOf } from './quality';
import {
  EndpointSettings, ErrorKind, SECURITY_MODES, SECURITY_POLICIES, classifyError, withTimeout, userIdentityFor, ownCertificateOptions,
} from './connect-options';

import { ItemGroup, ItemState, ItemSpec, GroupOptions, GroupListener } from './item-group';
import type { Connection, GroupHost, ManagerSettings } from './group-host';
import { subscribeGroup, silenceBoundMs, recreateSubscription } from './subscription';
import { checkPollItems, schedulePoll } from './polling';
import { armBackfill, noteLive, runBackfill } from './history';

export * from './connect-options';
export * from './item-group';


export type EndpointState = 'connecting' | 'connected' | 'reconnecting' | 'stale' | 'error' | 'closed';

export interface EndpointStatus {
  state: EndpointState;
  /** reconnect attempt number while reconnecting */
  attempt: number;
  error?: string;
  errorKind?: ErrorKind;
}


export class OpcuaSessionManager extends EventEmitter implements GroupHost {
  readonly settings: ManagerSettings;
  private groups = new Map<string, ItemGroup>();
  private conn?: Connection;
  private closed = false;
  private running?: Promise<void>;
  private wakeDelay?: () => void;
  private watchdogTimer?: NodeJS.Timeout;
  private lastActivity = 0;
  private everConnected = false;
  private current: EndpointStatus = { state: 'connecting', attempt: 0 };
  /** set while one reconnect cycle is in progress, counted across client rebuilds */
  private attempt = 0;
  private readonly retry: Backoff;

  constructor(settings: EndpointSettings) {
    super();
    const keepAliveMs = settings.keepAliveMs ?? 5000;
    this.settings = {
      ...settings,
      sessionTimeoutMs: settings.sessionTimeoutMs ?? 60000,
      keepAliveMs,
      watchdogMs: settings.watchdogMs ?? keepAliveMs * 3 + 5000,
      backoffMinMs: settings.backoffMinMs ?? 1000,
      backoffMaxMs: settings.backoffMaxMs ?? 30000,
      requestTimeoutMs: settings.requestTimeoutMs ?? 10000,
    };
    this.retry = new Backoff(this.settings.backoffMinMs, this.settings.backoffMaxMs);
  }

  get status(): EndpointStatus { return this.current; }
  get session(): ClientSession | undefined { return this.conn && !this.conn.dead ? this.conn.session : undefined; }
  get groupCount(): number { return this.groups.size; }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.running || this.closed) return;
    this.running = this.runLoop();
    const period = Math.max(50, Math.floor(this.settings.watchdogMs / 4));
    this.watchdogTimer = setInterval(() => this.checkWatchdog(), period);
  }

  register(id: string, options: GroupOptions, items: ItemSpec[], listener: GroupListener): ItemGroup {
    const old = this.groups.get(id);
    if (old) void this.deregister(id);
    const group = new ItemGroup(id, options, items, listener);
    this.groups.set(id, group);
    const parseErrors = group.items.filter((it) => it.error).map((it) => ({ nodeId: String(it.spec.nodeId), sensorId: it.sensorId, error: it.error! }));
    if (parseErrors.length) listener.itemErrors?.(parseErrors);
    const conn = this.conn;
    if (conn && conn.session && !conn.dead && this.current.state === 'connected') {
      this.startGroup(conn, group).catch((err) => this.log('warn', `starting items of ${id} failed: ${(err as Error).message}`));
    }
    this.start();
    return group;
  }

  async deregister(id: string): Promise<void> {
    const group = this.groups.get(id);
    if (!group) return;
    this.groups.delete(id);
    await this.stopGroup(group, true);
  }

  /** Closes subscriptions, the session and the client; waits for them (bounded). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.wakeDelay?.();
    for (const g of this.groups.values()) await this.stopGroup(g, false);
    const conn = this.conn;
    if (conn) await this.teardown(conn, true);
    this.setStatus({ state: 'closed', attempt: 0 });
    await this.running?.catch(() => undefined);
  }

  /** Skips the current backoff wait (after a certificate was trusted, for example). */
  retryNow(): void { this.wakeDelay?.(); }

  // ---- connection loop -------------------------------------------------------------------

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      this.attempt++;
      if (this.current.state !== 'error' || this.attempt === 1) {
        this.setStatus({ state: this.everConnected ? 'reconnecting' : 'connecting', attempt: this.attempt });
      }
      let conn: Connection | undefined;
      try {
        conn = await this.connectOnce();
        if (this.closed) { await this.teardown(conn, true); break; }
        this.attempt = 0;
        this.retry.reset();
        const reason = await conn.broken;
        if (this.closed) break;
        this.log('warn', `connection to ${this.settings.endpointUrl} given up: ${reason}; recreating session`);
        this.reportLoss('BadNoCommunication');
        await this.teardown(conn, false);
      } catch (err) {
        if (conn) await this.teardown(conn, false);
        if (this.closed) break;
        const message = (err as Error).message || String(err);
        const kind = classifyError(message);
        this.setStatus({ state: kind === 'other' ? (this.everConnected ? 'reconnecting' : 'connecting') : 'error', attempt: this.attempt, error: message, errorKind: kind });
        this.log(kind === 'other' ? 'warn' : 'error', `cannot connect to ${this.settings.endpointUrl}: ${message}`);
        this.reportLoss('BadNoCommunication');
      }
      if (this.closed) break;
      await this.delay(this.retry.next());
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wakeDelay = undefined; resolve(); }, ms);
      this.wakeDelay = () => { clearTimeout(t); this.wakeDelay = undefined; resolve(); };
    });
  }

  private async connectOnce(): Promise<Connection> {
    const s = this.settings;
    const certificateManager = typeof s.certificateManager === 'function' ? await s.certificateManager() : s.certificateManager;
    const own = typeof s.ownCertificate === 'function' ? await s.ownCertificate() : s.ownCertificate;
    const client = OPCUAClient.create({
      applicationName: s.applicationName ?? 'genix-node-red-iiot',
      ...ownCertificateOptions(own),
      clientName: 'genix-opcua-endpoint',
      endpointMustExist: false,
      securityMode: SECURITY_MODES[s.securityMode] ?? MessageSecurityMode.None,
      securityPolicy: SECURITY_POLICIES[s.securityPolicy] ?? SecurityPolicy.None,
      // no retry inside connect(): this manager counts attempts and applies the backoff
      connectionStrategy: { maxRetry: 0, initialDelay: s.backoffMinMs, maxDelay: s.backoffMaxMs },
      keepSessionAlive: true,
      keepAliveInterval: s.keepAliveMs,
      requestedSessionTimeout: s.sessionTimeoutMs,
      transportTimeout: s.requestTimeoutMs,
      defaultTransactionTimeout: s.requestTimeoutMs,
      clientCertificateManager: certificateManager,
    } as any);
    let breakWith!: (r: string) => void;
    const broken = new Promise<string>((resolve) => { breakWith = resolve; });
    const conn: Connection = { client, namespaceArray: [], dead: false, broken, breakWith: (r) => { if (!conn.dead) { conn.dead = true; breakWith(r); } }, backoffCount: 0 };
    this.conn = conn;
    await withTimeout(client.connect(s.endpointUrl), s.requestTimeoutMs * 2, 'connect');
    // from now on node-opcua repairs the channel and session itself before we rebuild
    (client as any).connectionStrategy.maxRetry = -1;
    client.on('connection_lost', () => this.onConnectionLost(conn));
    client.on('backoff', (count: number) => { conn.backoffCount = count; if (!conn.dead && conn.lostAt) this.setStatus({ state: 'reconnecting', attempt: count + 1 }); });
    client.on('connection_reestablished', () => {
      this.log('info', `channel to ${s.endpointUrl} re-established`);
      this.onSessionRestored(conn).catch((err) => conn.breakWith(`restore check failed: ${(err as Error).message}`));
    });
    const session = await withTimeout(client.createSession(userIdentityFor(this.settings)), s.requestTimeoutMs, 'createSession');
    conn.session = session;
    session.on('keepalive', () => { if (conn === this.conn) this.touch(); });
    session.on('session_closed', () => { if (!this.closed) conn.breakWith('the server closed the session'); });
    session.on('session_restored', () => { this.onSessionRestored(conn).catch((err) => conn.breakWith(`restore check failed: ${(err as Error).message}`)); });
    session.on('session_repaired_failed' as any, (err: any) => conn.breakWith(`session repair failed: ${err?.message ?? err}`));
    conn.namespaceArray = await withTimeout(session.readNamespaceArray(), s.requestTimeoutMs, 'read namespace array');
    this.everConnected = true;
    this.touch();
    for (const g of this.groups.values()) await this.startGroup(conn, g);
    if (conn.dead) throw new Error('connection lost while creating items');
    this.setStatus({ state: 'connected', attempt: 0 });
    return conn;
  }

  private onConnectionLost(conn: Connection): void {
    if (conn.dead || this.closed || conn !== this.conn) return;
    conn.lostAt = Date.now();
    this.log('warn', `connection to ${this.settings.endpointUrl} lost; repairing`);
    this.setStatus({ state: 'reconnecting', attempt: 1 });
    this.reportLoss('BadNoCommunication');
  }

  private async onSessionRestored(conn: Connection): Promise<void> {
    if (conn.dead || !conn.session || conn.lostAt === undefined) return;
    const ns = await withTimeout(conn.session.readNamespaceArray(), this.settings.requestTimeoutMs, 'read namespace array');
    const moved = [...this.groups.values()].some((g) => g.items.some((it) => {
      if (!it.parsed || it.parsed.nsu === undefined) return false;
      try { return resolveNodeId(it.parsed, ns) !== it.resolved; } catch { return true; }
    }));
    conn.namespaceArray = ns;
    if (moved) { conn.breakWith('the server reordered its namespaces'); return; }
    // values sampled while the channel was down are in the server's history, not in the subscription
    for (const g of this.groups.values()) armBackfill(g);
    conn.lostAt = undefined;
    this.touch();
    for (const g of this.groups.values()) g.lastNotification = this.lastActivity;
    this.log('info', `session on ${this.settings.endpointUrl} restored`);
    this.setStatus({ state: 'connected', attempt: 0 });
    for (const g of this.groups.values()) void runBackfill(this, conn, g);
  }

  private touch(): void { this.lastActivity = Date.now(); }

  // ---- GroupHost: what subscriptions and cyclic reads use --------------------------------

  usable(conn: Connection): boolean { return conn === this.conn && !conn.dead && conn.lostAt === undefined; }
  registered(g: ItemGroup): boolean { return this.groups.get(g.id) === g; }
  touchFrom(conn: Connection): void { if (conn === this.conn) this.touch(); }

  private checkWatchdog(): void {
    const conn = this.conn;
    if (!conn || conn.dead || this.closed) return;
    const now = Date.now();
    const bound = this.settings.watchdogMs;
    if (conn.lostAt !== undefined) {
      // node-opcua is repairing; give it the watchdog bound, then rebuild from our registry
      if (now - conn.lostAt > bound) conn.breakWith(`no repair within ${bound} ms`);
      return;
    }
    if (this.current.state === 'connected' && this.lastActivity && now - this.lastActivity > bound) {
      this.setStatus({ state: 'stale', attempt: 0 });
      conn.breakWith(`no data and no keep-alive for ${now - this.lastActivity} ms`);
      return;
    }
    // the session lives, but a subscription the server dropped sends neither data nor keep-alive
    for (const g of this.groups.values()) {
      const silent = now - g.lastNotification;
      if (g.subscription && !g.recreating && silent > silenceBoundMs(g, this.settings.requestTimeoutMs)) void recreateSubscription(this, conn, g, silent);
    }
  }

  private async teardown(conn: Connection, graceful: boolean): Promise<void> {
    conn.breakWith('closing');
    conn.dead = true;
    for (const g of this.groups.values()) this.clearGroupConnection(g);
    const t = this.settings.requestTimeoutMs;
    try {
      if (conn.session && graceful) await withTimeout(conn.session.close(true), Math.min(t, 5000), 'close session');
    } catch (err) {
      this.log('warn', `closing session: ${(err as Error).message}`);
    }
    try {
      await withTimeout(conn.client.disconnect(), Math.min(t, 5000), 'disconnect');
    } catch (err) {
      this.log('warn', `disconnecting: ${(err as Error).message}`);
    }
    conn.client.removeAllListeners();
    conn.session?.removeAllListeners();
    if (this.conn === conn) this.conn = undefined;
  }

  // ---- item groups ----------------------------------------------------------------------

  private clearGroupConnection(g: ItemGroup): void {
    if (g.pollTimer) clearTimeout(g.pollTimer);
    g.pollTimer = undefined;
    g.subscription = undefined;
    g.monitoredGroups = [];
    g.readInFlight = false;
  }

  private async stopGroup(g: ItemGroup, terminate: boolean): Promise<void> {
    const sub = g.subscription;
    this.clearGroupConnection(g);
    if (terminate && sub && this.conn && !this.conn.dead) {
      try {
        await withTimeout(sub.terminate(), Math.min(this.settings.requestTimeoutMs, 5000), 'delete subscription');
      } catch (err) {
        this.log('warn', `deleting subscription of ${g.id}: ${(err as Error).message}`);
      }
    }
  }

  private async startGroup(conn: Connection, g: ItemGroup): Promise<void> {
    const errors = g.resolve(conn.namespaceArray);
    const backfill = armBackfill(g);
    if (g.options.mode === 'poll') {
      errors.push(...await checkPollItems(this, conn, g));
      schedulePoll(this, conn, g);
    } else {
      errors.push(...await subscribeGroup(this, conn, g));
    }
    g.listener.itemErrors?.(errors);
    g.listener.status?.();
    if (backfill) void runBackfill(this, conn, g);
  }

  onData(g: ItemGroup, it: ItemState, dv: DataValue): void {
    const now = Date.now();
    this.lastActivity = now;
    const r = readingOf(it, dv, now);
    const fresh = noteLive(g, it, r);
    const qualityChanged = it.quality !== r.quality;
    it.quality = r.quality;
    it.lastValue = r.value;
    it.lossReported = false;
    // a value already sent (before the outage, or by the backfill) only restores the item's quality
    if (fresh) this.push(g, r, qualityChanged);
    else if (qualityChanged) g.listener.status?.();
  }

  private push(g: ItemGroup, r: Reading, statusChanged: boolean): void {
    g.pending.push(r);
    g.readingCount++;
    if (statusChanged) g.listener.status?.();
    if (!g.flushScheduled) {
      g.flushScheduled = true;
      // one flush per publish response / read cycle: readings of one notification travel together
      setImmediate(() => this.flush(g));
    }
  }

  private flush(g: ItemGroup): void {
    g.flushScheduled = false;
    const batch = g.pending;
    g.pending = [];
    if (batch.length && this.groups.get(g.id) === g) g.listener.readings(batch);
  }

  /** Every item sends one bad reading on a communication loss, so that alarms downstream see it. */
  reportLoss(statusCode: string, groups: Iterable<ItemGroup> = this.groups.values()): void {
    const now = Date.now();
    for (const g of groups) {
      let changed = false;
      for (const it of g.items) {
        if (!it.parsed || it.lossReported || (it.error && !it.resolved)) continue;
        it.lossReported = true;
        changed = changed || it.quality !== 'bad';
        it.quality = 'bad';
        const r: any = { sensorId: it.sensorId, value: it.lastValue, ts: now, quality: 'bad', statusCode, nodeId: it.parsed.text };
        if (it.unit) r.unit = it.unit;
        g.pending.push(r);
        g.readingCount++;
      }
      if (g.pending.length) this.flush(g);
      if (changed) g.listener.status?.();
    }
  }

  // ---- status ------------------------------------------------------------------------

  private setStatus(s: EndpointStatus): void {
    const c = this.current;
    if (c.state === s.state && c.attempt === s.attempt && c.error === s.error) return;
    this.current = s;
    this.emit('status', s);
    for (const g of this.groups.values()) g.listener.status?.();
  }

  log(level: 'info' | 'warn' | 'error', m: string): void {
    const l = this.settings.log;
    if (l) l[level](m);
  }
}
