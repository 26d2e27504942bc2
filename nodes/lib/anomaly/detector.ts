// The anomaly detector core: detectors and the alarm lifecycle over per-sensor state (sensor.ts).
// No node-red import. All delays and windows run on reading timestamps; see `tick` for live stale.
import type { AlarmEvent, Reading } from '../types';
import {
  AnomalyRule, CompiledRule, compileRules, findRule, Kind, KINDS, SEVERITY, SEVERITY_RANK,
  K_DEV, K_HIHI, K_HI, K_LO, K_LOLO, K_RATE, K_Z, K_FLAT, K_STALE, K_QUAL, K_DRIFT,
} from './rules';
import {
  AlarmRecord, SensorState, learnPeriod, timerSlot, newTimers, staleLimit, flatLimit, updateResolution, zOf, cusum, learn, rateOf,
  newEpisode, EP_SINCE, EP_COUNT, EP_MASK, EP_KIND, EP_SEV,
} from './sensor';
import { EMPTY, PASSED, activeList, describe, ruleLimit, usable, isReading, annotateReading } from './text';
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

const MINUTE = 60000;
const WINDOW_MINUTES = 10;

export class AnomalyDetector {
  /** @internal (persist.ts) */ rules: CompiledRule[];
  /** rules set by a control message (exported with the state so they survive a restart) */
  /** @internal */ rulesOverride: AnomalyRule[] | null = null;
  /** null caches "no rule matches" so unmatched sensors cost one lookup */
  /** @internal */ readonly sensors = new Map<string, SensorState | null>();
  /** @internal */ readonly list: SensorState[] = [];
  private events: AnomalyEvent[] = [];
  private readonly sweepMs: number;
  private readonly chatterWindowMs: number;
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
  private nextSweepTs = -Infinity;
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
      if (this.rebase) this.restartStaleCounts(ts);
      this.clockTs = ts;
      if (ts >= this.nextSweepTs) this.sweep(this.clock());
    }
    if (this.rebase) this.rebase = false;
    if (s === null) return EMPTY;
    const last = s.lastTs;
    const t = ts > last ? ts : last;
    const rule = s.rule;
    const v = r.value;
    const bad = r.quality === 'bad';
    if (rule.quality && bad !== ((s.active & (1 << K_QUAL)) !== 0)) {
      if (bad) this.activate(s, K_QUAL, t, v, NaN, NaN);
      else this.clear(s, K_QUAL, t, v, NaN, NaN);
    }
    // Only a usable value shows the sensor is alive: NaN, ±Infinity, null and bad quality do not.
    if (bad || (typeof v === 'number' ? v - v !== 0 : !usable(v))) return s.list; // v - v is NaN for NaN and ±Infinity
    if (s.periods !== null && ts > last && last !== -Infinity) learnPeriod(s, ts - last);
    s.lastTs = t;
    s.arrival = this.clockTs > this.base ? this.clockTs : this.base;
    if ((s.active & (1 << K_STALE)) !== 0) this.clear(s, K_STALE, t, v, staleLimit(rule, s.period), NaN);
    if (typeof v === 'number') this.evaluate(s, rule, v, t);
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

  private evaluate(s: SensorState, rule: CompiledRule, v: number, t: number): void {
    const mask = rule.mask;
    const db = rule.deadband;
    if ((mask & (1 << K_DEV)) !== 0) {
      const d = v - rule.baseline;
      const a = d < 0 ? -d : d;
      this.condition(s, K_DEV, a > rule.deviation, a <= rule.deviation - db, t, v, rule.deviation, d);
    }
    if ((mask & (1 << K_HIHI)) !== 0) this.condition(s, K_HIHI, v > rule.hihi, v <= rule.hihi - db, t, v, rule.hihi, v - rule.hihi);
    if ((mask & (1 << K_HI)) !== 0) this.condition(s, K_HI, v > rule.hi, v <= rule.hi - db, t, v, rule.hi, v - rule.hi);
    if ((mask & (1 << K_LO)) !== 0) this.condition(s, K_LO, v < rule.lo, v >= rule.lo + db, t, v, rule.lo, v - rule.lo);
    if ((mask & (1 << K_LOLO)) !== 0) this.condition(s, K_LOLO, v < rule.lolo, v >= rule.lolo + db, t, v, rule.lolo, v - rule.lolo);
    if ((mask & (1 << K_RATE)) !== 0) {
      const rate = rateOf(s, v, t);
      if (rate === rate) {
        const a = rate < 0 ? -rate : rate;
        this.condition(s, K_RATE, a > rule.rate, a <= rule.rate - rule.rateDeadband, t, v, rule.rate, rate);
      }
    }
    if (rule.stats) this.statistics(s, rule, v, t);
    if ((mask & (1 << K_FLAT)) !== 0) {
      const d = v - s.flatRef;
      if (!(d <= rule.flatlineEpsilon && d >= -rule.flatlineEpsilon)) {
        if ((s.active & (1 << K_FLAT)) !== 0) this.clear(s, K_FLAT, t, v, flatLimit(rule, s.period), t - s.flatSince);
        s.flatRef = v;
        s.flatSince = t;
      } else if ((s.active & (1 << K_FLAT)) === 0) {
        const lim = flatLimit(rule, s.period);
        if (t - s.flatSince >= lim) this.activate(s, K_FLAT, t, v, lim, t - s.flatSince);
      }
    }
    s.lastValue = v;
  }

  /** z-score and drift against the rolling baseline (judged before this value is learned). */
  private statistics(s: SensorState, rule: CompiledRule, v: number, t: number): void {
    updateResolution(s, v);
    if ((rule.mask & (1 << K_Z)) !== 0) {
      const z = zOf(s, v, t);
      if (z === z) {
        const a = z < 0 ? -z : z;
        this.condition(s, K_Z, a > rule.zscore, a <= rule.zscoreClear, t, v, rule.zscore, z);
      }
    }
    if ((rule.mask & (1 << K_DRIFT)) !== 0) {
      const c = cusum(s, v);
      if (c === c) this.condition(s, K_DRIFT, c > rule.drift, c <= rule.drift / 2, t, v, rule.drift, c);
    }
    learn(s, v, t);
  }

  /** On-delay / off-delay state machine of one value alarm. */
  private condition(s: SensorState, k: number, trip: boolean, clearOk: boolean, t: number, v: number, limit: number, dev: number): void {
    if (s.rule.noDelays) {
      // no on- or off-delay in this rule: no timers to keep
      if ((s.active & (1 << k)) === 0) { if (trip) this.activate(s, k, t, v, limit, dev); } else if (clearOk) this.clear(s, k, t, v, limit, dev);
      return;
    }
    let tm = s.timers;
    const on = timerSlot(k);
    if ((s.active & (1 << k)) === 0) {
      if (!trip) {
        if (tm !== null && tm[on] === tm[on]) tm[on] = NaN;
        return;
      }
      if (tm === null) tm = s.timers = newTimers();
      if (tm[on] !== tm[on]) tm[on] = t;
      if (t - tm[on] >= s.rule.onDelayMs) {
        tm[on] = NaN;
        this.activate(s, k, t, v, limit, dev);
      }
    } else {
      const off = on + 1;
      if (tm === null) tm = s.timers = newTimers();
      if (!clearOk) {
        if (tm[off] === tm[off]) tm[off] = NaN;
        return;
      }
      if (tm[off] !== tm[off]) tm[off] = t;
      if (t - tm[off] >= s.rule.offDelayMs) {
        tm[off] = NaN;
        this.clear(s, k, t, v, limit, dev);
      }
    }
  }

  /** @internal */
  record(s: SensorState, k: number): AlarmRecord {
    for (let a = s.alarms; a !== null; a = a.next) if (a.kind === k) return a;
    const a = new AlarmRecord(k);
    a.next = s.alarms;
    s.alarms = a;
    return a;
  }

  private activate(s: SensorState, k: number, t: number, v: unknown, limit: number, dev: number): void {
    const a = this.record(s, k);
    if (a.shelvedUntil > 0 && a.shelvedUntil <= t) this.unshelveRecord(s, a, a.shelvedUntil);
    s.active |= 1 << k;
    this.activeCount++;
    this.changes++;
    s.list = activeList(s.active);
    a.on = true;
    a.acked = false;
    a.value = v;
    const chatter = t - a.act1 <= this.chatterWindowMs;
    a.act1 = a.act0;
    a.act0 = t;
    const shelved = a.shelvedUntil > 0;
    if (!shelved) {
      const msg = `${s.sensorId} ${KINDS[k]} alarm: ${describe(k, v, limit, dev)}`;
      if (!this.group) {
        this.countActivation(t);
        this.emit(s, a, 'active', t, v, limit, dev, msg);
      } else {
        this.episodeOn(s, a, t, v, limit, dev, msg);
      }
    }
    if (chatter && !a.chattering) {
      a.chattering = true;
      if (!shelved) this.emit(s, a, 'chattering', t, v, limit, NaN, `${s.sensorId} ${KINDS[k]} alarm is chattering (3 activations within ${this.chatterWindowMs / 1000} s)`);
      if (s.rule.chatterShelveMs > 0 && !shelved) this.shelveRecord(s, a, t + s.rule.chatterShelveMs, t, 'chattering');
    } else if (!chatter && a.chattering) {
      a.chattering = false;
    }
  }

  /** @internal */
  clear(s: SensorState, k: number, t: number, v: unknown, limit: number, dev: number, why = ''): void {
    const a = this.record(s, k);
    s.active &= ~(1 << k);
    this.activeCount--;
    this.changes++;
    s.list = activeList(s.active);
    a.value = v;
    if (a.shelvedUntil === 0) {
      const msg = `${s.sensorId} ${KINDS[k]} alarm cleared${why ? ` (${why})` : `: ${describe(k, v, limit, dev)}`}`;
      if (!this.group) this.emit(s, a, 'cleared', t, v, limit, dev, msg);
      else this.episodeOff(s, t, v, limit, dev, msg);
    }
    a.on = false;
  }

  // ---- grouping: one episode per sensor ---------------------------------------------------

  private episodeOn(s: SensorState, a: AlarmRecord, t: number, v: unknown, limit: number, dev: number, msg: string): void {
    const f = s.ep ?? (s.ep = newEpisode());
    const k = a.kind;
    if (f[EP_SINCE] !== f[EP_SINCE]) {
      f[EP_SINCE] = t;
      f[EP_COUNT] = 1;
      f[EP_MASK] = 1 << k;
      f[EP_KIND] = k;
      f[EP_SEV] = SEVERITY_RANK[k];
      this.countActivation(t);
      this.emit(s, a, 'active', t, v, limit, dev, msg);
      return;
    }
    f[EP_COUNT]++;
    f[EP_MASK] = f[EP_MASK] | (1 << k);
    if (SEVERITY_RANK[k] > f[EP_SEV]) {
      f[EP_SEV] = SEVERITY_RANK[k];
      this.emit(s, a, 'escalated', t, v, limit, dev, `${msg} (escalates the episode since ${new Date(f[EP_SINCE]).toISOString()})`);
    }
  }

  /** Closes the episode when no announced (unshelved) alarm of the sensor is left active. */
  private episodeOff(s: SensorState, t: number, v: unknown, limit: number, dev: number, msg: string): void {
    const f = s.ep;
    if (f === null || f[EP_SINCE] !== f[EP_SINCE]) return;
    for (let a = s.alarms; a !== null; a = a.next) if ((s.active & (1 << a.kind)) !== 0 && a.shelvedUntil === 0) return;
    const first = this.record(s, f[EP_KIND]);
    const secs = Math.round((t - f[EP_SINCE]) / 100) / 10;
    const kinds = activeList(f[EP_MASK]);
    this.emit(s, first, 'cleared', t, v, limit, dev, `${msg}; episode over after ${secs} s (${kinds.join(', ')}; ${f[EP_COUNT]} activation${f[EP_COUNT] === 1 ? '' : 's'})`);
    f[EP_SINCE] = NaN;
    f[EP_COUNT] = 0;
    f[EP_MASK] = 0;
  }

  /** @internal */
  emit(s: SensorState, a: AlarmRecord, state: string, t: number, v: unknown, limit: number, dev: number, message: string): void {
    const ev: AnomalyEvent = { sensorId: s.sensorId, kind: KINDS[a.kind], state, severity: SEVERITY[a.kind], value: v, ts: t, message };
    if (this.history) ev.historical = true;
    if (limit === limit) ev.limit = limit;
    if (dev === dev) ev.deviation = dev;
    if (a.activeSince === a.activeSince) ev.activeSince = a.activeSince;
    if (a.acked) ev.acknowledged = true;
    if (a.shelvedUntil > 0) ev.shelvedUntil = a.shelvedUntil;
    if (a.chattering) ev.chattering = true;
    const f = s.ep;
    if (this.group && f !== null && f[EP_SINCE] === f[EP_SINCE]) {
      const mask = f[EP_MASK];
      ev.activeSince = f[EP_SINCE];
      ev.severity = f[EP_SEV] === 3 ? 'high' : f[EP_SEV] === 2 ? 'medium' : 'low';
      ev.episode = { since: f[EP_SINCE], count: f[EP_COUNT], kinds: activeList(mask).slice(), active: s.list.slice() };
      if (state === 'cleared') ev.episode.durationMs = t - f[EP_SINCE];
      ev.detail = [];
      for (let k = 0; k < KINDS.length; k++) {
        if ((mask & (1 << k)) === 0) continue;
        const r = this.record(s, k);
        const d: NonNullable<AnomalyEvent['detail']>[number] = { kind: KINDS[k], active: (s.active & (1 << k)) !== 0 };
        if (r.act0 !== -Infinity) d.since = r.act0;
        if (r.value !== undefined) d.value = r.value;
        const lim = this.limitOf(s, k);
        if (lim === lim) d.limit = lim;
        ev.detail.push(d);
      }
    }
    this.events.push(ev);
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

  /** The limit an alarm of kind k of this sensor is judged on (stale and flatline follow the learned period). */
  /** @internal */
  limitOf(s: SensorState, k: number): number {
    if (k === K_STALE) return staleLimit(s.rule, s.period);
    if (k === K_FLAT) return flatLimit(s.rule, s.period);
    return ruleLimit(s.rule, k);
  }

  /** After a restore: every sensor's stale count starts again at the first new reading. */
  private restartStaleCounts(now: number): void {
    for (const s of this.list) if (s.arrival < now) s.arrival = now;
  }

  /** Looks for stale sensors and expired shelves at `now` (detector clock). */
  private sweep(now: number): void {
    this.nextSweepTs = now + this.sweepMs;
    const list = this.list;
    // A history detector sees only the outage's backfill: gaps between its readings are not silence.
    const staleBit = this.history ? 0 : 1 << K_STALE;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if ((s.rule.mask & staleBit) === 0 || (s.active & staleBit) !== 0) continue;
      // Judged on this sensor's own arrivals (NaN: none yet); the event carries the moment it became stale.
      const lim = staleLimit(s.rule, s.period);
      const due = s.arrival + lim;
      if (due <= now) this.activate(s, K_STALE, due, s.lastValue === s.lastValue ? s.lastValue : null, lim, now - s.arrival);
    }
    if (this.shelvedCount > 0) {
      for (let i = 0; i < list.length; i++) {
        for (let a = list[i].alarms; a !== null; a = a.next) if (a.shelvedUntil > 0 && a.shelvedUntil <= now) this.unshelveRecord(list[i], a, a.shelvedUntil);
      }
    }
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
    this.sweep(now);
  }

  private countActivation(t: number): void {
    const m = Math.floor(t / MINUTE);
    const slot = ((m % WINDOW_MINUTES) + WINDOW_MINUTES) % WINDOW_MINUTES;
    if (this.minuteKey[slot] !== m) {
      this.minuteKey[slot] = m;
      this.minuteCount[slot] = 0;
    }
    this.minuteCount[slot]++;
  }

  /** Announced activations (episodes when grouping) in the 10 minutes up to `now` (reading time). */
  alarmsPer10Min(now = this.clock()): number {
    const m = Math.floor(now / MINUTE);
    let n = 0;
    for (let i = 0; i < WINDOW_MINUTES; i++) if (this.minuteKey[i] > m - WINDOW_MINUTES && this.minuteKey[i] <= m) n += this.minuteCount[i];
    return n;
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

  /** @internal */
  shelveRecord(s: SensorState, a: AlarmRecord, until: number, t: number, why: string): void {
    if (a.shelvedUntil === 0) this.shelvedCount++;
    a.shelvedUntil = until;
    this.changes++;
    this.emit(s, a, 'shelved', t, a.value, this.limitOf(s, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm shelved until ${new Date(until).toISOString()} (${why})`);
  }

  /** @internal */
  unshelveRecord(s: SensorState, a: AlarmRecord, t: number): void {
    if (a.shelvedUntil === 0) return;
    a.shelvedUntil = 0;
    this.shelvedCount--;
    this.changes++;
    const active = (s.active & (1 << a.kind)) !== 0;
    this.emit(s, a, 'unshelved', t, a.value, this.limitOf(s, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm unshelved${active ? ', still active' : ''}`);
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
      const a = this.record(s, k);
      this.clear(s, k, t, a.value, this.limitOf(s, k), NaN, why);
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
