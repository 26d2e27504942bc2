// The Prometheus registry behind GET /genix/metrics. Values are read from the trackers and the
// deployed nodes when Prometheus scrapes (text()), never pushed per message.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Traffic } from './traffic';
import type { AlarmTracker } from './alarms';
import type { SessionTracker } from './sessions';
import { SESSION_STATES } from './sessions';
import type { LatencySink } from './delivery';

/** What a store-and-forward buffer reports (its metrics(), or the metrics message on output 2). */
export interface BufferMetricsLike {
  state?: unknown;
  backlog?: unknown;
  bytes?: unknown;
  oldestAgeMs?: unknown;
  inFlight?: unknown;
  inFlightMessages?: unknown;
  accepted?: unknown;
  delivered?: unknown;
  deliveredReadings?: unknown;
  failures?: unknown;
  timeouts?: unknown;
  drops?: unknown;
  deadLetters?: unknown;
  diskFull?: unknown;
  fileBytes?: unknown;
}

export interface BufferSnapshot {
  id: string;
  name: string;
  open: boolean;
  metrics?: BufferMetricsLike;
}

export interface EndpointSnapshot {
  id: string;
  name: string;
  /** the manager's current state, when the deployed node exposes it */
  state?: string;
}

export interface DetectorSnapshot {
  id: string;
  name: string;
  /** active alarms as the detector itself counts them, when the node exposes it */
  active?: number;
}

export interface HealthSnapshot {
  flowsStarted: boolean;
  ready: boolean;
  live: boolean;
  eventLoopMaxDelayMs: number;
}

export interface OpsSources {
  traffic: Traffic;
  alarms: AlarmTracker;
  sessions: SessionTracker;
  buffers(): BufferSnapshot[];
  endpoints(): EndpointSnapshot[];
  detectors(): DetectorSnapshot[];
  health(): HealthSnapshot;
  /** the node's name for a label ('' when none) */
  nameOf(id: string): string;
}

/** Seconds buckets for delivery latency: a LAN broker answers in ms, a cloud in tens to hundreds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export interface OpsMetrics {
  registry: Registry;
  observeDelivery: LatencySink;
  /** forgets the latency series of buffers no longer deployed */
  prune(keep: (id: string) => boolean): Promise<void>;
  /** the exposition text: every value read from its source now */
  text(): Promise<string>;
}

export function createOpsMetrics(src: OpsSources, opts: { defaultMetrics?: boolean } = {}): OpsMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // their empty-histogram NaNs trip strict parsers; genix_event_loop_max_delay_seconds is the one event-loop figure
    for (const s of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) registry.removeSingleMetric(`nodejs_eventloop_lag_${s}_seconds`);
  }
  const r = [registry];

  // ---- per node traffic -------------------------------------------------------------------
  const nodeLabels = ['node', 'type', 'name'] as const;
  const portLabels = ['node', 'type', 'name', 'port'] as const;
  const msgIn = new Counter({ name: 'genix_node_messages_in_total', help: 'Messages received by each genix node', labelNames: nodeLabels, registers: r });
  const readIn = new Counter({ name: 'genix_node_readings_in_total', help: 'Readings received by each genix node (a batch counts its entries)', labelNames: nodeLabels, registers: r });
  const msgOut = new Counter({ name: 'genix_node_messages_out_total', help: 'Messages sent by each genix node on each wired output port', labelNames: portLabels, registers: r });
  const readOut = new Counter({ name: 'genix_node_readings_out_total', help: 'Readings sent by each genix node on each wired output port (a batch counts its entries)', labelNames: portLabels, registers: r });
  const updateTraffic = () => {
    for (const c of [msgIn, readIn, msgOut, readOut]) c.reset();
    for (const t of src.traffic.snapshot()) {
      const l = { node: t.id, type: t.type, name: t.name };
      msgIn.inc(l, t.messagesIn);
      readIn.inc(l, t.readingsIn);
      for (let p = 0; p < t.messagesOut.length; p++) {
        msgOut.inc({ ...l, port: String(p) }, t.messagesOut[p]);
        readOut.inc({ ...l, port: String(p) }, t.readingsOut[p]);
      }
    }
  };

  // ---- store-and-forward buffers ----------------------------------------------------------
  const bl = ['node', 'name'] as const;
  const gauges = {
    open: new Gauge({ name: 'genix_buffer_open', help: '1 when the store-and-forward buffer has its SQLite file open', labelNames: bl, registers: r }),
    backlog: new Gauge({ name: 'genix_buffer_backlog_messages', help: 'Stored messages not yet acknowledged (in flight included)', labelNames: bl, registers: r }),
    bytes: new Gauge({ name: 'genix_buffer_backlog_bytes', help: 'Bytes of the stored messages not yet acknowledged', labelNames: bl, registers: r }),
    age: new Gauge({ name: 'genix_buffer_oldest_age_seconds', help: 'Age of the oldest stored message', labelNames: bl, registers: r }),
    inFlight: new Gauge({ name: 'genix_buffer_in_flight_messages', help: 'Stored messages forwarded and awaiting an answer', labelNames: bl, registers: r }),
    dead: new Gauge({ name: 'genix_buffer_dead_letters', help: 'Messages in the dead-letter table', labelNames: bl, registers: r }),
    diskFull: new Gauge({ name: 'genix_buffer_disk_full', help: '1 while the buffer cannot write because the disk is full', labelNames: bl, registers: r }),
    fileBytes: new Gauge({ name: 'genix_buffer_file_bytes', help: 'Size of the SQLite file', labelNames: bl, registers: r }),
  };
  const counters = {
    accepted: new Counter({ name: 'genix_buffer_accepted_total', help: 'Messages committed to the buffer', labelNames: bl, registers: r }),
    delivered: new Counter({ name: 'genix_buffer_delivered_total', help: 'Messages acknowledged by the cloud and deleted', labelNames: bl, registers: r }),
    deliveredReadings: new Counter({ name: 'genix_buffer_delivered_readings_total', help: 'Readings inside the acknowledged messages', labelNames: bl, registers: r }),
    failures: new Counter({ name: 'genix_buffer_delivery_failures_total', help: 'Answers with ok: false', labelNames: bl, registers: r }),
    timeouts: new Counter({ name: 'genix_buffer_delivery_timeouts_total', help: 'Forwards with no answer within ackTimeoutMs', labelNames: bl, registers: r }),
  };
  const drops = new Counter({ name: 'genix_buffer_dropped_total', help: 'Messages the buffer dropped, by reason (overflow, disk-full, ttl)', labelNames: ['node', 'name', 'reason'], registers: r });
  const deployedBuffers = new Gauge({ name: 'genix_buffers', help: 'Deployed store-and-forward buffers', registers: r });
  const updateBuffers = () => {
    for (const g of Object.values(gauges)) g.reset();
    for (const c of Object.values(counters)) c.reset();
    drops.reset();
    const list = src.buffers();
    deployedBuffers.set(list.length);
    for (const b of list) {
      const l = { node: b.id, name: b.name };
      gauges.open.set(l, b.open ? 1 : 0);
      const m = b.metrics;
      if (!m) continue;
      gauges.backlog.set(l, n(m.backlog));
      gauges.bytes.set(l, n(m.bytes));
      gauges.age.set(l, n(m.oldestAgeMs) / 1000);
      gauges.inFlight.set(l, n(m.inFlightMessages));
      gauges.dead.set(l, n(m.deadLetters));
      gauges.diskFull.set(l, m.diskFull === true ? 1 : 0);
      gauges.fileBytes.set(l, n(m.fileBytes));
      counters.accepted.inc(l, n(m.accepted));
      counters.delivered.inc(l, n(m.delivered));
      counters.deliveredReadings.inc(l, n(m.deliveredReadings));
      counters.failures.inc(l, n(m.failures));
      counters.timeouts.inc(l, n(m.timeouts));
      if (m.drops !== null && typeof m.drops === 'object') {
        for (const [reason, count] of Object.entries(m.drops as Record<string, unknown>)) drops.inc({ ...l, reason }, n(count));
      }
    }
  };

  const latency = new Histogram({
    name: 'genix_delivery_latency_seconds',
    help: 'From the buffer forwarding a stored message to its delivery answer coming back',
    labelNames: ['buffer', 'name', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const observeDelivery: LatencySink = (buffer, ok, seconds) => {
    latency.observe({ buffer, name: src.nameOf(buffer), outcome: ok ? 'ok' : 'failed' }, seconds);
  };

  // ---- OPC-UA sessions --------------------------------------------------------------------
  const el = ['endpoint', 'name'] as const;
  const up = new Gauge({ name: 'genix_opcua_session_up', help: '1 while the OPC-UA endpoint has a connected session', labelNames: el, registers: r });
  const reconnects = new Counter({ name: 'genix_opcua_reconnects_total', help: 'Sessions re-established after a loss', labelNames: el, registers: r });
  const losses = new Counter({ name: 'genix_opcua_session_losses_total', help: 'Connected sessions lost (connection, keep-alive or watchdog)', labelNames: el, registers: r });
  const sessionState = new Gauge({
    name: 'genix_opcua_session_state',
    help: `1 for the current state of each endpoint's session (${SESSION_STATES.join(', ')})`,
    labelNames: ['endpoint', 'name', 'state'],
    registers: r,
  });
  const updateSessions = () => {
    sessionState.reset();
    up.reset();
    reconnects.reset();
    losses.reset();
    for (const e of src.endpoints()) {
      const l = { endpoint: e.id, name: e.name };
      const seen = src.sessions.get(e.id);
      const state = e.state ?? seen?.state ?? 'unknown';
      for (const s of SESSION_STATES) sessionState.set({ ...l, state: s }, s === state ? 1 : 0);
      up.set(l, state === 'connected' ? 1 : 0);
      reconnects.inc(l, seen?.reconnects ?? 0);
      losses.inc(l, seen?.losses ?? 0);
    }
  };

  // ---- alarms -----------------------------------------------------------------------------
  const events = new Counter({ name: 'genix_alarm_events_total', help: 'Alarm events sent by each anomaly detector, by kind, state and severity', labelNames: ['node', 'name', 'kind', 'state', 'severity'], registers: r });
  const active = new Gauge({ name: 'genix_alarms_active', help: 'Alarms currently active in each anomaly detector', labelNames: ['node', 'name'], registers: r });
  const updateAlarms = () => {
    active.reset();
    events.reset();
    for (const c of src.alarms.eventCounts()) events.inc({ node: c.node, name: src.nameOf(c.node), kind: c.kind, state: c.state, severity: c.severity }, c.count);
    for (const d of src.detectors()) active.set({ node: d.id, name: d.name }, d.active ?? src.alarms.activeCount(d.id));
  };

  // ---- health -----------------------------------------------------------------------------
  const ready = new Gauge({ name: 'genix_ready', help: '1 when flows are started and every store-and-forward buffer is open', registers: r });
  const live = new Gauge({ name: 'genix_live', help: '1 when the event loop has not stalled beyond the limit within the window', registers: r });
  const started = new Gauge({ name: 'genix_flows_started', help: '1 while the flows are started', registers: r });
  const stall = new Gauge({ name: 'genix_event_loop_max_delay_seconds', help: 'Longest event-loop stall within the health window', registers: r });
  const updateHealth = () => {
    const h = src.health();
    stall.set(h.eventLoopMaxDelayMs / 1000);
    ready.set(h.ready ? 1 : 0);
    live.set(h.live ? 1 : 0);
    started.set(h.flowsStarted ? 1 : 0);
  };

  const text = async (): Promise<string> => {
    updateTraffic();
    updateBuffers();
    updateSessions();
    updateAlarms();
    updateHealth();
    // prom-client writes NaN as "Nan"; the exposition format (and strict parsers) want "NaN"
    return (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
  };
  const prune = async (keep: (id: string) => boolean) => {
    const gone = new Map<string, Record<string, string>>();
    for (const v of (await latency.get()).values) {
      const { buffer, name, outcome } = v.labels as Record<string, string>;
      if (typeof buffer === 'string' && !keep(buffer)) gone.set(`${buffer}\u0000${outcome}`, { buffer, name, outcome });
    }
    for (const labels of gone.values()) latency.remove(labels);
  };
  return { registry, observeDelivery, text, prune };
}
