// The anomaly detector: per-sensor state (sensor.ts, stats.ts), the detector clock, readings in and
// events out. Per-reading judging is in evaluate.ts, the alarm lifecycle in alarm.ts, events and
// episodes in events.ts, stale and shelf expiry in sweep.ts, operator actions in operator.ts and
// saving in persist.ts. No node-red import. All delays and windows run on reading timestamps; see
// `tick` for live stale.
import type { AlarmEvent, Reading } from '../types';
import { AnomalyRule, CompiledRule, compileRules, findRule, Kind, KINDS, K_STALE, K_QUAL } from './rules';
import { SensorState, learnPeriod, staleLimit, record, limitOf } from './sensor';
import { EMPTY, PASSED, usable, isReading, annotateReading } from './text';
import { evaluate } from './evaluate';
import { activate, clear } from './alarm';
import { WINDOW_MINUTES, activationsPer10Min } from './events';
import { sweep, restartStaleCounts } from './sweep';
import { exportDetector, importDetector, ExportedState } from './persist';
import { ackAlarms, shelveAlarms, unshelveAlarms, selectSensors } from './operator';

export { isReading, readingProblem, annotateReading, PASSED } from './text';
export type { ExportedState } from './persist';

export interface AnomalyEvent extends AlarmEvent {
  kind: Kind;
  acknowledged?: boolean;
  shelvedUntil?: number;
  chattering?: boolean;
  /** grouping: the sensor's alarm episode (every kind that was active in it, how often, how long) */
  episode?: { since: number; count: number; kinds: string[]; active: string[]; durationMs?: number };
  /** raised on backfilled readings (a history detector): a record of the past, not a live alarm */
  historical?: boolean;
  /** grouping: per-rule detail of the episode */
  detail?: Array<{ kind: string; active: boolean; since?: number; value?: unknown; limit?: number }>;
}

export interface DetectorOptions {
  /** how often (reading time) stale sensors and expired shelves are looked for; default 500 ms */
  sweepMs?: number;
  /** three activations within this window make an alarm chattering; default 60 s */
  chatterWindowMs?: number;
  /** sensors tracked at most (memory bound against floods of made-up sensorIds); default 100,000 */
  maxSensors?: number;
  /** live use: a reading more than this far ahead of the wall clock does not move the shared clock; default 60 s */
  maxClockLeadMs?: number;
  /** one episode per sensor: one "active" event when the first alarm rises, one "cleared" when the last clears */
  group?: boolean;
  /**
   * A history detector: judges only readings flagged `backfill: true` (older than live data), on its
   * own per-sensor state, without stale judging, and marks its events `historical: true`. A live
   * detector (the default) leaves backfilled readings alone.
   */
  history?: boolean;
}

export class AnomalyDetector {
  /** @internal (persist.ts) */ rules: CompiledRule[];
  /** rules set by a control message (exported with the state so they survive a restart) */
  /** @internal */ rulesOverride: AnomalyRule[] | null = null;
  /** null caches "no rule matches" so unmatched sensors cost one lookup */
  /** @internal */ readonly sensors = new Map<string, SensorState | null>();
  /** @internal */ readonly list: SensorState[] = [];
  /** @internal (events.ts) */ events: AnomalyEvent[] = [];
  /** @internal */ readonly sweepMs: number;
  /** @internal */ readonly chatterWindowMs: number;
  private readonly maxSensors: number;
  private readonly maxClockLeadMs: number;
  readonly group: boolean;
  readonly history: boolean;
  /** the newest ts allowed to move the shared clock (Infinity until a wall clock is known) */
  private clockCap = Infinity;
  /** readings of sensors not tracked because maxSensors was reached */
  untracked = 0;
  /** latest reading time seen on any sensor */
  /** @internal */ clockTs = -Infinity;
  /** "latest seen time" at the last arrival, and the wall clock then (live use) */
  /** @internal */ base = -Infinity;
  /** @internal */ clockWall = 0;
  /** after a restore: the first reading restarts every sensor's stale count (no burst after downtime) */
  /** @internal */ rebase = false;
  /** @internal (sweep.ts) */ nextSweepTs = -Infinity;
  /** @internal */ activeCount = 0;
  /** @internal */ shelvedCount = 0;
  /** @internal */ readonly minuteKey = new Float64Array(WINDOW_MINUTES).fill(-1);
  /** @internal */ readonly minuteCount = new Float64Array(WINDOW_MINUTES);
  /** bumped on every state change, so the owner knows when to save */
  changes = 0;

  constructor(rules: AnomalyRule[] | CompiledRule[] = [], opts: DetectorOptions = {}) {
    this.rules = isCompiled(rules) ? rules : compileRules(rules);
    this.sweepMs = opts.sweepMs ?? 500;
    this.chatterWindowMs = opts.chatterWindowMs ?? 60000;
    this.maxSensors = opts.maxSensors ?? 100000;
    this.maxClockLeadMs = opts.maxClockLeadMs ?? 60000;
    this.group = opts.group === true;
    this.history = opts.history === true;
  }

  /** The detector clock: the newest reading time, or the latest-seen time of the last arrival if later. */
  private clock(): number {
    return this.clockTs > this.base ? this.clockTs : this.base;
  }

  /**
   * Evaluates one reading; returns the sensor's active alarm kinds (a shared frozen array), or
   * PASSED for a reading this detector leaves alone (backfilled history in a live detector, live
   * data in a history detector): no state, clock or liveness is touched by it.
   */
  process(r: Reading): readonly string[] {
    if ((r.backfill === true) !== this.history) return PASSED;
    const id = r.sensorId;
    let s = this.sensors.get(id);
    if (s === undefined) s = this.addSensor(id);
    const ts = r.ts;
    // One sensor with a clock far in the future must not make every other sensor look stale.
    if (ts > this.clockTs && ts <= this.clockCap) {
      if (this.rebase) restartStaleCounts(this, ts);
      this.clockTs = ts;
      if (ts >= this.nextSweepTs) sweep(this, this.clock());
    }
    if (this.rebase) this.rebase = false;
    if (s === null) return EMPTY;
    const last = s.lastTs;
    const t = ts > last ? ts : last;
    const rule = s.rule;
    const v = r.value;
    const bad = r.quality === 'bad';
    if (rule.quality && bad !== ((s.active & (1 << K_QUAL)) !== 0)) {
      if (bad) activate(this, s, K_QUAL, t, v, NaN, NaN);
      else clear(this, s, K_QUAL, t, v, NaN, NaN);
    }
    // Only a usable value shows the sensor is alive: NaN, ±Infinity, null and bad quality do not.
    if (bad || (typeof v === 'number' ? v - v !== 0 : !usable(v))) return s.list; // v - v is NaN for NaN and ±Infinity
    if (s.periods !== null && ts > last && last !== -Infinity) learnPeriod(s, ts - last);
    s.lastTs = t;
    s.arrival = this.clockTs > this.base ? this.clockTs : this.base;
    if ((s.active & (1 << K_STALE)) !== 0) clear(this, s, K_STALE, t, v, staleLimit(rule, s.period), NaN);
    if (typeof v === 'number') evaluate(this, s, rule, v, t);
    return s.list;
  }

  /** Evaluates a batch in one pass; returns how many readings were valid. Invalid ones are skipped. */
  processBatch(readings: Reading[], annotate = true): number {
    let ok = 0;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i];
      if (!isReading(r)) continue;
      ok++;
      const list = this.process(r);
      if (annotate) annotateReading(r, list);
    }
    return ok;
  }

  /** Events produced since the last call (the same empty array when there are none). */
  takeEvents(): AnomalyEvent[] {
    if (this.events.length === 0) return this.events;
    const out = this.events;
    this.events = [];
    return out;
  }

  /** @internal */
  addSensor(id: string): SensorState | null {
    if (this.sensors.size >= this.maxSensors) {
      this.untracked++;
      return null;
    }
    const rule = findRule(this.rules, id);
    if (rule === null) {
      this.sensors.set(id, null);
      return null;
    }
    const s = new SensorState(id, rule, EMPTY);
    s.index = this.list.length;
    this.list.push(s);
    this.sensors.set(id, s);
    return s;
  }


  /** Records that readings arrive now (wall clock), for `tick`. */
  arrival(wallNow: number): void {
    if (this.clockTs !== -Infinity) this.base = this.now(wallNow);
    this.clockWall = wallNow;
    this.clockCap = wallNow + this.maxClockLeadMs;
  }

  /**
   * "Latest seen time": the newest reading ts, or the latest-seen time at the last arrival advanced
   * by the wall-clock time since, whichever is later. Replays at any speed give the same alarms.
   */
  now(wallNow?: number): number {
    const c = this.clock();
    if (c === -Infinity) return wallNow ?? -Infinity;
    if (wallNow === undefined || this.clockCap === Infinity) return c;
    const live = (this.base === -Infinity ? this.clockTs : this.base) + Math.max(0, wallNow - this.clockWall);
    return live > c ? live : c;
  }

  /** Timer entry: sweeps at the latest-seen time so stale fires even when nothing arrives. */
  tick(wallNow: number): void {
    const now = this.now(wallNow);
    if (now === -Infinity) return;
    sweep(this, now);
  }

  /** Announced activations (episodes when grouping) in the 10 minutes up to `now` (reading time). */
  alarmsPer10Min(now = this.clock()): number {
    return activationsPer10Min(this, now);
  }

  stats(wallNow?: number): { sensors: number; active: number; shelved: number; per10min: number } {
    return { sensors: this.list.length, active: this.activeCount, shelved: this.shelvedCount, per10min: this.alarmsPer10Min(this.now(wallNow)) };
  }

  /** Active alarms of one sensor (for tests and the editor). */
  activeKinds(sensorId: string): readonly string[] {
    const s = this.sensors.get(sensorId);
    return s ? s.list : EMPTY;
  }

  /** The learned period of a sensor in ms (NaN until known). */
  periodOf(sensorId: string): number {
    const s = this.sensors.get(sensorId);
    return s ? s.period : NaN;
  }

  // ---- operator actions (operator.ts) ------------------------------------------------------

  /** Acknowledges active, unacknowledged alarms; returns how many. */
  ack(sensorId?: string, kind?: string, wallNow?: number): number {
    return ackAlarms(this, sensorId, kind, this.now(wallNow));
  }

  /** Shelves alarms for durationMs (reading time): active ones, or the given kind even when inactive. */
  shelve(sensorId: string | undefined, kind: string | undefined, durationMs: number, wallNow?: number): number {
    return shelveAlarms(this, sensorId, kind, durationMs, this.now(wallNow));
  }

  unshelve(sensorId?: string, kind?: string, wallNow?: number): number {
    return unshelveAlarms(this, sensorId, kind, this.now(wallNow));
  }
  /** Forgets sensors' state; active alarms are cleared with an event. Returns how many sensors. */
  reset(sensorId?: string, wallNow?: number): number {
    const t = this.now(wallNow);
    const n = selectSensors(this, sensorId, (s) => this.dropSensor(s, t, 'reset'));
    if (sensorId === undefined || sensorId === '*') this.sensors.clear();
    return n;
  }

  private dropSensor(s: SensorState, t: number, why: string): void {
    for (let k = 0; k < KINDS.length; k++) {
      if ((s.active & (1 << k)) === 0) continue;
      const a = record(s, k);
      clear(this, s, k, t, a.value, limitOf(s, k), NaN, why);
    }
    for (let a = s.alarms; a !== null; a = a.next) if (a.shelvedUntil > 0) this.shelvedCount--;
    this.changes++;
    const last = this.list.pop() as SensorState;
    if (last !== s) {
      this.list[s.index] = last;
      last.index = s.index;
    }
    this.sensors.delete(s.sensorId);
  }

  /** Replaces the rules (validated first: on error nothing changes). Alarms are cleared; detection restarts. */
  setRules(rules: AnomalyRule[], wallNow?: number, fromMessage = true): void {
    const compiled = compileRules(rules);
    const t = this.now(wallNow);
    for (const s of this.list.slice()) this.dropSensor(s, t, 'rules replaced');
    this.sensors.clear();
    this.rules = compiled;
    this.rulesOverride = fromMessage ? rules : null;
  }

  getRules(): AnomalyRule[] {
    return this.rules.map((r) => r.source);
  }

  hasRulesOverride(): boolean {
    return this.rulesOverride !== null;
  }

  /** A JSON-safe snapshot of everything needed to carry on after a redeploy or restart. */
  exportState(): ExportedState {
    return exportDetector(this);
  }

  /**
   * Restores a snapshot made by exportState. Alarms of kinds the current rules no longer raise are
   * cleared (events returned through takeEvents); the rest carry on without new "active" events.
   */
  importState(state: ExportedState, wallNow = Date.now()): void {
    importDetector(this, state, wallNow);
  }
}

function isCompiled(r: unknown[]): r is CompiledRule[] {
  return r.length > 0 && typeof (r[0] as CompiledRule).test === 'function';
}
