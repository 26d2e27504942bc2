// genix-ops: Node-RED plugin (package.json "node-red"."plugins") for operations on Kubernetes.
// GET <httpAdminRoot>/genix/metrics    Prometheus text; permission genix-metrics.read
// GET <httpAdminRoot>/genix/health/live and /genix/health/ready   open, for the kubelet's probes
// It counts traffic with message hooks and reads the deployed nodes' public objects; no node file
// depends on it. Logic lives in lib/ops.
import type { NodeAPI } from 'node-red';
import { monitorEventLoopDelay, IntervalHistogram } from 'perf_hooks';
import { Traffic } from './lib/ops/traffic';
import { DeliveryLatency } from './lib/ops/delivery';
import { AlarmTracker } from './lib/ops/alarms';
import { SessionTracker } from './lib/ops/sessions';
import { installHooks, removeHooks } from './lib/ops/hooks';
import { EventLoopWatch, HEALTH_DEFAULTS, HealthOptions, evaluateLiveness, evaluateReadiness, healthOptions } from './lib/ops/health';
import { createOpsMetrics, BufferMetricsLike, BufferSnapshot, EndpointSnapshot, DetectorSnapshot, OpsSources } from './lib/ops/metrics';

const SAMPLE_EVERY_MS = 500;
/** a forward unanswered for this long will not be answered: stop waiting for it */
const PENDING_MAX_AGE_MS = 3600000;

/** One event-loop monitor per process, whichever runtime loads the plugin. */
let loop: { histogram: IntervalHistogram; watch: EventLoopWatch; lastTick: number; windowMs: number } | undefined;

function startLoopWatch(windowMs: number): NonNullable<typeof loop> {
  if (loop && loop.windowMs === windowMs) return loop;
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  const l = { histogram, watch: new EventLoopWatch(windowMs), lastTick: Date.now(), windowMs };
  setInterval(() => {
    const now = Date.now();
    const late = now - l.lastTick - SAMPLE_EVERY_MS;
    l.watch.sample(now, Math.max(l.histogram.max / 1e6, late));
    l.histogram.reset();
    l.lastTick = now;
  }, SAMPLE_EVERY_MS).unref();
  loop?.histogram.disable();
  loop = l;
  return l;
}

export = function (RED: NodeAPI) {
  const R = RED as any;
  const settings = (R.settings?.genixOps ?? {}) as { metrics?: boolean; health?: { httpNode?: boolean } };
  let health: HealthOptions = HEALTH_DEFAULTS;
  try {
    health = healthOptions(settings.health);
  } catch (err) {
    R.log.warn(`genix-ops: ${(err as Error).message}; using the defaults`);
  }
  const watch = startLoopWatch(health.windowMs);

  const traffic = new Traffic();
  const alarms = new AlarmTracker();
  const sessions = new SessionTracker();
  const lastBufferMetrics = new Map<string, BufferMetricsLike>();
  const attached = new WeakSet<object>();
  let flowsStarted = false;

  /** Deployed, enabled config of one type (subflow templates and disabled tabs left out). */
  const deployed = (type: string): any[] => {
    const all: any[] = [];
    try {
      R.nodes.eachNode((n: any) => all.push(n));
    } catch {
      return []; // no flows loaded yet
    }
    const off = new Set(all.filter((n) => (n.type === 'tab' && n.disabled) || n.type === 'subflow').map((n) => n.id));
    return all.filter((n) => n.type === type && !n.d && !off.has(n.z));
  };
  const live = (id: string): any => {
    try {
      return R.nodes.getNode(id);
    } catch {
      return null;
    }
  };
  const nameOf = (id: string): string => String(live(id)?.name ?? '');

  const attachEndpoints = (): EndpointSnapshot[] =>
    deployed('genix-opcua-endpoint').map((def) => {
      const mgr = live(def.id)?.manager;
      if (mgr && typeof mgr.on === 'function' && !attached.has(mgr)) {
        attached.add(mgr);
        if (mgr.status) sessions.status(def.id, mgr.status);
        mgr.on('status', (s: any) => sessions.status(def.id, s ?? {}));
      }
      const state = mgr?.status?.state;
      return { id: def.id, name: String(def.name ?? ''), state: typeof state === 'string' ? state : undefined };
    });

  const buffers = (): BufferSnapshot[] =>
    deployed('genix-store-forward').map((def) => {
      const b = live(def.id)?.buffer;
      const open = !!b && typeof b.metrics === 'function';
      let metrics: BufferMetricsLike | undefined = lastBufferMetrics.get(def.id);
      if (open) {
        try {
          metrics = b.metrics();
        } catch { /* keep the last reported figures */ }
      }
      return { id: def.id, name: String(def.name ?? ''), open, metrics };
    });

  const detectors = (): DetectorSnapshot[] =>
    deployed('genix-anomaly').map((def) => {
      const n = live(def.id);
      let active: number | undefined;
      try {
        const s = typeof n?.alarmStats === 'function' ? n.alarmStats() : undefined;
        if (s && typeof s.active === 'number') active = s.active;
      } catch { /* fall back to the events seen */ }
      return { id: def.id, name: String(def.name ?? ''), active };
    });

  const liveness = () => {
    const now = Date.now();
    const pending = Math.max(watch.histogram.max / 1e6, now - watch.lastTick - SAMPLE_EVERY_MS);
    return evaluateLiveness(watch.watch.maxDelayMs(now, pending), health);
  };
  const readiness = () => evaluateReadiness(flowsStarted, buffers().map((b) => ({ id: b.id, open: b.open })));

  RED.events.on('flows:started', () => {
    flowsStarted = true;
    const ids = new Set<string>();
    try {
      R.nodes.eachNode((n: any) => ids.add(n.id));
    } catch { /* nothing deployed */ }
    const keep = (id: string) => ids.has(id);
    traffic.prune(keep);
    alarms.prune(keep);
    sessions.prune(keep);
    for (const id of [...lastBufferMetrics.keys()]) if (!keep(id)) lastBufferMetrics.delete(id);
    void metrics.prune(keep).catch(() => undefined);
    attachEndpoints();
  });
  RED.events.on('flows:stopped', () => {
    flowsStarted = false;
  });

  // Installed from the palette into a running Node-RED: the flows started before this plugin loaded.
  try {
    R.nodes.eachNode((n: any) => { if (!flowsStarted && n.type !== 'tab' && live(n.id)) flowsStarted = true; });
  } catch { /* no flows yet: a normal start, flows:started follows */ }

  const metricsOn = settings.metrics !== false && typeof R.hooks?.add === 'function';
  if (settings.metrics !== false && !metricsOn) R.log.warn('genix-ops: this Node-RED has no message hooks (RED.hooks); /genix/metrics is off');
  const sources: OpsSources = {
    traffic,
    alarms,
    sessions,
    buffers,
    endpoints: attachEndpoints,
    detectors,
    nameOf,
    health: () => {
      const l = liveness();
      return { flowsStarted, ready: readiness().ready, live: l.live, eventLoopMaxDelayMs: l.eventLoopMaxDelayMs };
    },
  };
  const metrics = createOpsMetrics(sources);
  const { registry } = metrics;
  const delivery = new DeliveryLatency(metrics.observeDelivery);
  if (metricsOn) {
    installHooks(R.hooks, { traffic, delivery, alarms, bufferMetrics: (id, p) => { if (p && typeof p === 'object') lastBufferMetrics.set(id, p as BufferMetricsLike); } });
  } else if (typeof R.hooks?.remove === 'function') {
    removeHooks(R.hooks);
  }

  // Node-RED answers 401 for a missing and for an insufficient permission; a signed-in user who
  // lacks genix-metrics.read gets 403, so a scraper's misconfiguration reads as what it is.
  const forbiddenWhenSignedIn = (req: any, res: any, next: () => void) => {
    const status = res.status.bind(res);
    res.status = (code: number) => status(code === 401 && req.user ? 403 : code);
    next();
  };
  const scrape = async (_req: any, res: any) => {
    try {
      delivery.expire(Date.now(), PENDING_MAX_AGE_MS);
      const text = await metrics.text();
      res.set('Content-Type', registry.contentType);
      res.send(text);
    } catch (err) {
      res.status(500).json({ error: `metrics: ${(err as Error).message}` });
    }
  };
  const answerLive = (_req: any, res: any) => {
    const l = liveness();
    res.status(l.live ? 200 : 503).json({ status: l.live ? 'ok' : 'fail', ...l });
  };
  const answerReady = (_req: any, res: any) => {
    const r = readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ok' : 'fail', ...r });
  };

  if (metricsOn) R.httpAdmin.get('/genix/metrics', forbiddenWhenSignedIn, R.auth.needsPermission('genix-metrics.read'), scrape);
  // Probes carry no credentials: these answer ok/fail and node ids only, whatever adminAuth says.
  R.httpAdmin.get('/genix/health/live', answerLive);
  R.httpAdmin.get('/genix/health/ready', answerReady);
  if (settings.health?.httpNode === true && R.httpNode) {
    R.httpNode.get('/genix/health/live', answerLive);
    R.httpNode.get('/genix/health/ready', answerReady);
  }

  try {
    R.plugins.registerPlugin('genix-ops', { type: 'genix-ops' });
  } catch {
    // loaded as a node file (a nodesDir scan, as the benchmarks do): the routes and hooks work the same
  }
};
