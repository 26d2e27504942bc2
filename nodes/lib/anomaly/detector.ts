// The anomaly detector core: per-sensor state, detectors and the alarm lifecycle. No node-red import.
// All delays and windows run on reading timestamps; see `tick` for how stale works in live use.
import type { AlarmEvent, Reading } from '../types';
import { compileGlob } from './glob';
import {
  AnomalyRule, CompiledRule, compileRules, findRule, Kind, KINDS, SEVERITY, VALUE_MASK,
  K_DEV, K_HIHI, K_HI, K_LO, K_LOLO, K_RATE, K_Z, K_FLAT, K_STALE, K_QUAL,
} from './rules';

export interface AnomalyEvent extends AlarmEvent {
  kind: Kind;
  acknowledged?: boolean;
  shelvedUntil?: number;
  chattering?: boolean;
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
}

const EMPTY: readonly string[] = Object.freeze([]);
const TIMER_SLOTS = (K_Z + 1) * 2;
const MINUTE = 60000;
const WINDOW_MINUTES = 10;

/** One alarm (sensor × kind): created the first time it changes state. */
class AlarmRecord {
  activeSince = NaN;
  acked = false;
  shelvedUntil = 0;
  chattering = false;
  /** the two previous activation times, newest first (chattering: 3 within the window) */
  act0 = -Infinity;
  act1 = -Infinity;
  value: unknown = undefined;
  /** a sensor's records form a short linked list: most sensors have none, a few have one or two */
  next: AlarmRecord | null = null;
  constructor(readonly kind: number) {}
}

class SensorState {
  index = 0;
  active = 0;
  list: readonly string[] = EMPTY;
  lastTs = -Infinity;
  lastValue = NaN;
  lastValueTs = NaN;
  mean = 0;
  var = 0;
  n = 0;
  statsSince = NaN;
  statsTs = NaN;
  flatRef = NaN;
  flatSince = NaN;
  alarms: AlarmRecord | null = null;
  /** on-delay / off-delay start per value alarm kind (NaN = not pending); created on the first trip */
  timers: Float64Array | null = null;
  constructor(readonly sensorId: string, public rule: CompiledRule) {}
}

export class AnomalyDetector {
  private rules: CompiledRule[];
  /** rules set by a control message (exported with the state so they survive a restart) */
  private rulesOverride: AnomalyRule[] | null = null;
  /** null caches "no rule matches" so unmatched sensors cost one lookup */
  private readonly sensors = new Map<string, SensorState | null>();
  private readonly list: SensorState[] = [];
  private events: AnomalyEvent[] = [];
  private readonly sweepMs: number;
  private readonly chatterWindowMs: number;
  private readonly maxSensors: number;
  private readonly maxClockLeadMs: number;
  /** the newest ts allowed to move the shared clock (Infinity until a wall clock is known) */
  private clockCap = Infinity;
  /** readings of sensors not tracked because maxSensors was reached */
  untracked = 0;
  /** latest reading time seen on any sensor */
  private clockTs = -Infinity;
  private clockWall = 0;
  private nextSweepTs = -Infinity;
  private activeCount = 0;
  private shelvedCount = 0;
  private readonly minuteKey = new Float64Array(WINDOW_MINUTES).fill(-1);
  private readonly minuteCount = new Float64Array(WINDOW_MINUTES);
  /** bumped on every state change, so the owner knows when to save */
  changes = 0;

  constructor(rules: AnomalyRule[] | CompiledRule[] = [], opts: DetectorOptions = {}) {
    this.rules = isCompiled(rules) ? rules : compileRules(rules);
    this.sweepMs = opts.sweepMs ?? 500;
    this.chatterWindowMs = opts.chatterWindowMs ?? 60000;
    this.maxSensors = opts.maxSensors ?? 100000;
    this.maxClockLeadMs = opts.maxClockLeadMs ?? 60000;
  }

  /** Evaluates one reading; returns the sensor's active alarm kinds (a shared frozen array). */
  process(r: Reading): readonly string[] {
    const id = r.sensorId;
    let s = this.sensors.get(id);
    if (s === undefined) s = this.addSensor(id);
    const ts = r.ts;
    // One sensor with a clock far in the future must not make every other sensor look stale.
    if (ts > this.clockTs && ts <= this.clockCap) {
      this.clockTs = ts;
      if (ts >= this.nextSweepTs) this.sweep(ts);
    }
    if (s === null) return EMPTY;
    const t = ts > s.lastTs ? ts : s.lastTs;
    s.lastTs = t;
    const rule = s.rule;
    if ((s.active & (1 << K_STALE)) !== 0) this.clear(s, K_STALE, t, r.value, rule.staleMs, NaN);
    const bad = r.quality === 'bad';
    if (rule.quality && bad !== ((s.active & (1 << K_QUAL)) !== 0)) {
      if (bad) this.activate(s, K_QUAL, t, r.value, NaN, NaN);
      else this.clear(s, K_QUAL, t, r.value, NaN, NaN);
    }
    const v = r.value;
    if (bad || typeof v !== 'number' || v !== v || v === Infinity || v === -Infinity) return s.list;
    this.evaluate(s, rule, v, t);
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
      const dt = t - s.lastValueTs;
      if (dt > 0) {
        const rate = ((v - s.lastValue) * 1000) / dt;
        const a = rate < 0 ? -rate : rate;
        this.condition(s, K_RATE, a > rule.rate, a <= rule.rate, t, v, rule.rate, rate);
      }
    }
    if ((mask & (1 << K_Z)) !== 0) this.zscore(s, rule, v, t);
    if ((mask & (1 << K_FLAT)) !== 0) {
      const d = v - s.flatRef;
      if (!(d <= rule.flatlineEpsilon && d >= -rule.flatlineEpsilon)) {
        if ((s.active & (1 << K_FLAT)) !== 0) this.clear(s, K_FLAT, t, v, rule.flatlineMs, t - s.flatSince);
        s.flatRef = v;
        s.flatSince = t;
      } else if ((s.active & (1 << K_FLAT)) === 0 && t - s.flatSince >= rule.flatlineMs) {
        this.activate(s, K_FLAT, t, v, rule.flatlineMs, t - s.flatSince);
      }
    }
    s.lastValue = v;
    s.lastValueTs = t;
  }

  /** Rolling mean and variance as exponentially weighted moments with a time constant (West's update). */
  private zscore(s: SensorState, rule: CompiledRule, v: number, t: number): void {
    if (s.n === 0) {
      s.mean = v;
      s.var = 0;
      s.n = 1;
      s.statsSince = t;
      s.statsTs = t;
      return;
    }
    const std = Math.sqrt(s.var);
    if (t - s.statsSince >= rule.zscoreWarmupMs && s.n >= 10 && std > rule.zscoreMinStd) {
      const z = (v - s.mean) / std;
      const a = z < 0 ? -z : z;
      this.condition(s, K_Z, a > rule.zscore, a <= rule.zscoreClear, t, v, rule.zscore, z);
    }
    const dt = t - s.statsTs;
    s.statsTs = t;
    // Learning pauses while a value alarm is active, so a fault does not become the new normal.
    if ((s.active & VALUE_MASK) !== 0 || dt <= 0) return;
    const alpha = 1 - Math.exp(-dt / rule.zscoreWindowMs);
    const d = v - s.mean;
    s.mean += alpha * d;
    s.var = (1 - alpha) * (s.var + alpha * d * d);
    if (s.n < 1e9) s.n++;
  }

  /** On-delay / off-delay state machine of one value alarm. */
  private condition(s: SensorState, k: number, trip: boolean, clearOk: boolean, t: number, v: number, limit: number, dev: number): void {
    let tm = s.timers;
    const on = k * 2;
    if ((s.active & (1 << k)) === 0) {
      if (!trip) {
        if (tm !== null && tm[on] === tm[on]) tm[on] = NaN;
        return;
      }
      if (tm === null) tm = s.timers = new Float64Array(TIMER_SLOTS).fill(NaN);
      if (tm[on] !== tm[on]) tm[on] = t;
      if (t - tm[on] >= s.rule.onDelayMs) {
        tm[on] = NaN;
        this.activate(s, k, t, v, limit, dev);
      }
    } else {
      const off = on + 1;
      if (tm === null) tm = s.timers = new Float64Array(TIMER_SLOTS).fill(NaN);
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

  private record(s: SensorState, k: number): AlarmRecord {
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
    a.activeSince = t;
    a.acked = false;
    a.value = v;
    const chatter = t - a.act1 <= this.chatterWindowMs;
    a.act1 = a.act0;
    a.act0 = t;
    const shelved = a.shelvedUntil > 0;
    if (!shelved) {
      this.countActivation(t);
      this.emit(s, a, 'active', t, v, limit, dev, `${s.sensorId} ${KINDS[k]} alarm: ${describe(k, v, limit, dev)}`);
    }
    if (chatter && !a.chattering) {
      a.chattering = true;
      if (!shelved) this.emit(s, a, 'chattering', t, v, limit, NaN, `${s.sensorId} ${KINDS[k]} alarm is chattering (3 activations within ${this.chatterWindowMs / 1000} s)`);
      if (s.rule.chatterShelveMs > 0 && !shelved) this.shelveRecord(s, a, t + s.rule.chatterShelveMs, t, 'chattering');
    } else if (!chatter && a.chattering) {
      a.chattering = false;
    }
  }

  private clear(s: SensorState, k: number, t: number, v: unknown, limit: number, dev: number): void {
    const a = this.record(s, k);
    s.active &= ~(1 << k);
    this.activeCount--;
    this.changes++;
    s.list = activeList(s.active);
    a.value = v;
    if (a.shelvedUntil === 0) this.emit(s, a, 'cleared', t, v, limit, dev, `${s.sensorId} ${KINDS[k]} alarm cleared: ${describe(k, v, limit, dev)}`);
    a.activeSince = NaN;
  }

  private emit(s: SensorState, a: AlarmRecord, state: string, t: number, v: unknown, limit: number, dev: number, message: string): void {
    const ev: AnomalyEvent = { sensorId: s.sensorId, kind: KINDS[a.kind], state, severity: SEVERITY[a.kind], value: v, ts: t, message };
    if (limit === limit) ev.limit = limit;
    if (dev === dev) ev.deviation = dev;
    if (a.activeSince === a.activeSince) ev.activeSince = a.activeSince;
    if (a.acked) ev.acknowledged = true;
    if (a.shelvedUntil > 0) ev.shelvedUntil = a.shelvedUntil;
    if (a.chattering) ev.chattering = true;
    this.events.push(ev);
  }

  /** Events produced since the last call (the same empty array when there are none). */
  takeEvents(): AnomalyEvent[] {
    if (this.events.length === 0) return this.events;
    const out = this.events;
    this.events = [];
    return out;
  }

  private addSensor(id: string): SensorState | null {
    if (this.sensors.size >= this.maxSensors) {
      this.untracked++;
      return null;
    }
    const rule = findRule(this.rules, id);
    if (rule === null) {
      this.sensors.set(id, null);
      return null;
    }
    const s = new SensorState(id, rule);
    s.index = this.list.length;
    this.list.push(s);
    this.sensors.set(id, s);
    return s;
  }

  /** Looks for stale sensors and expired shelves at `now` (reading time). */
  private sweep(now: number): void {
    this.nextSweepTs = now + this.sweepMs;
    const list = this.list;
    const staleBit = 1 << K_STALE;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      const due = s.lastTs + s.rule.staleMs;
      // The event carries the moment the sensor became stale, not when the sweep noticed.
      if (due <= now && (s.active & staleBit) === 0 && s.lastTs !== -Infinity) this.activate(s, K_STALE, due, s.lastValue === s.lastValue ? s.lastValue : null, s.rule.staleMs, now - s.lastTs);
    }
    if (this.shelvedCount > 0) {
      for (let i = 0; i < list.length; i++) {
        for (let a = list[i].alarms; a !== null; a = a.next) if (a.shelvedUntil > 0 && a.shelvedUntil <= now) this.unshelveRecord(list[i], a, a.shelvedUntil);
      }
    }
  }

  /** Records when the latest readings arrived (wall clock), for `tick`. */
  arrival(wallNow: number): void {
    this.clockWall = wallNow;
    this.clockCap = wallNow + this.maxClockLeadMs;
  }

  /**
   * "Latest seen time": the newest reading ts, advanced by the wall-clock time since the last arrival.
   * Replays at any speed give the same data-driven alarms; this only adds stale alarms when data stops.
   */
  now(wallNow?: number): number {
    if (this.clockTs === -Infinity) return wallNow ?? -Infinity;
    if (wallNow === undefined) return this.clockTs;
    return this.clockTs + Math.max(0, wallNow - this.clockWall);
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

  /** Announced activations in the 10 minutes up to `now` (reading time). */
  alarmsPer10Min(now = this.clockTs): number {
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

  // ---- operator actions -------------------------------------------------------------------

  private select(sensorId: string | undefined, fn: (s: SensorState) => void): number {
    if (sensorId === undefined || sensorId === '*') {
      for (const s of this.list.slice()) fn(s);
      return this.list.length;
    }
    const exact = this.sensors.get(sensorId);
    if (exact) {
      fn(exact);
      return 1;
    }
    const test = compileGlob(sensorId);
    let n = 0;
    for (const s of this.list.slice()) if (test(s.sensorId)) { fn(s); n++; }
    return n;
  }

  /** Acknowledges active, unacknowledged alarms; returns how many. */
  ack(sensorId?: string, kind?: string, wallNow?: number): number {
    const k = kindIndex(kind);
    const t = this.now(wallNow);
    let n = 0;
    this.select(sensorId, (s) => {
      for (let a = s.alarms; a !== null; a = a.next) {
        if ((k >= 0 && a.kind !== k) || (s.active & (1 << a.kind)) === 0 || a.acked) continue;
        a.acked = true;
        n++;
        this.changes++;
        this.emit(s, a, 'acknowledged', t, a.value, ruleLimit(s.rule, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm acknowledged`);
      }
    });
    return n;
  }

  /** Shelves alarms for durationMs (reading time): active ones, or the given kind even when inactive. */
  shelve(sensorId: string | undefined, kind: string | undefined, durationMs: number, wallNow?: number): number {
    const k = kindIndex(kind);
    const t = this.now(wallNow);
    let n = 0;
    this.select(sensorId, (s) => {
      if (k >= 0) {
        if ((s.rule.mask & (1 << k)) === 0) return;
        this.shelveRecord(s, this.record(s, k), t + durationMs, t, 'operator');
        n++;
        return;
      }
      for (let a = s.alarms; a !== null; a = a.next) {
        if ((s.active & (1 << a.kind)) === 0) continue;
        this.shelveRecord(s, a, t + durationMs, t, 'operator');
        n++;
      }
    });
    return n;
  }

  unshelve(sensorId?: string, kind?: string, wallNow?: number): number {
    const k = kindIndex(kind);
    const t = this.now(wallNow);
    let n = 0;
    this.select(sensorId, (s) => {
      for (let a = s.alarms; a !== null; a = a.next) {
        if (a.shelvedUntil === 0 || (k >= 0 && a.kind !== k)) continue;
        this.unshelveRecord(s, a, t);
        n++;
      }
    });
    return n;
  }

  private shelveRecord(s: SensorState, a: AlarmRecord, until: number, t: number, why: string): void {
    if (a.shelvedUntil === 0) this.shelvedCount++;
    a.shelvedUntil = until;
    this.changes++;
    this.emit(s, a, 'shelved', t, a.value, ruleLimit(s.rule, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm shelved until ${new Date(until).toISOString()} (${why})`);
  }

  private unshelveRecord(s: SensorState, a: AlarmRecord, t: number): void {
    if (a.shelvedUntil === 0) return;
    a.shelvedUntil = 0;
    this.shelvedCount--;
    this.changes++;
    const active = (s.active & (1 << a.kind)) !== 0;
    this.emit(s, a, 'unshelved', t, a.value, ruleLimit(s.rule, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm unshelved${active ? ', still active' : ''}`);
  }

  /** Forgets sensors' state; active alarms are cleared with an event. Returns how many sensors. */
  reset(sensorId?: string, wallNow?: number): number {
    const t = this.now(wallNow);
    const n = this.select(sensorId, (s) => this.dropSensor(s, t, 'reset'));
    if (sensorId === undefined || sensorId === '*') this.sensors.clear();
    return n;
  }

  private dropSensor(s: SensorState, t: number, why: string): void {
    for (let k = 0; k < KINDS.length; k++) {
      if ((s.active & (1 << k)) === 0) continue;
      const a = this.record(s, k);
      if (a.shelvedUntil === 0) this.emit(s, a, 'cleared', t, a.value, ruleLimit(s.rule, a.kind), NaN, `${s.sensorId} ${KINDS[k]} alarm cleared (${why})`);
      this.activeCount--;
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

  // ---- persistence ------------------------------------------------------------------------

  /** A JSON-safe snapshot of everything needed to carry on after a redeploy or restart. */
  exportState(): ExportedState {
    const sensors: ExportedSensor[] = [];
    for (const s of this.list) {
      const alarms: ExportedAlarm[] = [];
      for (let a = s.alarms; a !== null; a = a.next) {
        alarms.push([a.kind, j(a.activeSince), a.acked ? 1 : 0, a.shelvedUntil, a.chattering ? 1 : 0, [j(a.act0), j(a.act1)], jv(a.value)]);
      }
      sensors.push([s.sensorId, s.rule.index, j(s.lastTs), j(s.lastValue), j(s.lastValueTs), s.mean, s.var, s.n, j(s.statsSince), j(s.statsTs),
        j(s.flatRef), j(s.flatSince), s.active, s.timers ? Array.from(s.timers, j) : [], alarms]);
    }
    return {
      v: 1,
      clockTs: j(this.clockTs),
      rules: this.rulesOverride ?? undefined,
      ruleSigs: this.rules.map((r) => JSON.stringify(r.source)),
      minutes: [Array.from(this.minuteKey), Array.from(this.minuteCount)],
      sensors,
    };
  }

  /**
   * Restores a snapshot made by exportState. Alarms of kinds the current rules no longer raise are
   * cleared (events returned through takeEvents); the rest carry on without new "active" events.
   */
  importState(state: ExportedState, wallNow = Date.now()): void {
    if (!state || state.v !== 1 || !Array.isArray(state.sensors)) throw new Error('not an anomaly detector state (v1)');
    if (state.rules) this.setRules(state.rules, wallNow, true);
    const sigs = this.rules.map((r) => JSON.stringify(r.source));
    this.clockTs = state.clockTs === null ? -Infinity : state.clockTs;
    this.clockWall = wallNow;
    if (Array.isArray(state.minutes)) {
      state.minutes[0].forEach((v, i) => { if (i < WINDOW_MINUTES) this.minuteKey[i] = v; });
      state.minutes[1].forEach((v, i) => { if (i < WINDOW_MINUTES) this.minuteCount[i] = v; });
    }
    for (const e of state.sensors) {
      const [id, oldRule, lastTs, lastValue, lastValueTs, mean, variance, n, statsSince, statsTs, flatRef, flatSince, active, timers, alarms] = e;
      if (this.sensors.has(id)) continue;
      const s = this.addSensor(id);
      if (s === null) continue;
      const same = state.ruleSigs?.[oldRule] === sigs[s.rule.index];
      s.lastTs = lastTs ?? -Infinity;
      s.lastValue = lastValue ?? NaN;
      s.lastValueTs = lastValueTs ?? NaN;
      s.mean = mean;
      s.var = variance;
      s.n = n;
      s.statsSince = statsSince ?? NaN;
      s.statsTs = statsTs ?? NaN;
      s.flatRef = flatRef ?? NaN;
      s.flatSince = flatSince ?? NaN;
      if (same && timers.length === TIMER_SLOTS) s.timers = Float64Array.from(timers, (v) => v ?? NaN);
      for (const [k, activeSince, acked, shelvedUntil, chattering, acts, value] of alarms) {
        if (k < 0 || k >= KINDS.length) continue;
        const a = this.record(s, k);
        a.activeSince = activeSince ?? NaN;
        a.acked = acked === 1;
        a.chattering = chattering === 1;
        a.act0 = acts[0] ?? -Infinity;
        a.act1 = acts[1] ?? -Infinity;
        a.value = value;
        if (shelvedUntil > 0) {
          a.shelvedUntil = shelvedUntil;
          this.shelvedCount++;
        }
        if ((active & (1 << k)) === 0) continue;
        s.active |= 1 << k;
        this.activeCount++;
        if ((s.rule.mask & (1 << k)) === 0) this.clear(s, k, this.now(), a.value, NaN, NaN);
      }
      s.list = activeList(s.active);
    }
  }
}

export type ExportedAlarm = [number, number | null, number, number, number, Array<number | null>, unknown];
export type ExportedSensor = [string, number, number | null, number | null, number | null, number, number, number, number | null, number | null,
  number | null, number | null, number, Array<number | null>, ExportedAlarm[]];
export interface ExportedState {
  v: 1;
  clockTs: number | null;
  rules?: AnomalyRule[];
  ruleSigs?: string[];
  minutes?: [number[], number[]];
  sensors: ExportedSensor[];
}

function j(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
function jv(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

function isCompiled(r: unknown[]): r is CompiledRule[] {
  return r.length > 0 && typeof (r[0] as CompiledRule).test === 'function';
}

function kindIndex(kind: string | undefined): number {
  if (kind === undefined || kind === '' || kind === '*') return -1;
  const k = (KINDS as readonly string[]).indexOf(kind);
  if (k < 0) throw new Error(`unknown alarm kind "${kind}" (one of ${KINDS.join(', ')})`);
  return k;
}

/** The list of active kinds for a bitmask, cached: alarms change rarely and lists are shared. */
const listCache = new Map<number, readonly string[]>();
function activeList(mask: number): readonly string[] {
  if (mask === 0) return EMPTY;
  let l = listCache.get(mask);
  if (l === undefined) {
    const kinds: string[] = [];
    for (let k = 0; k < KINDS.length; k++) if ((mask & (1 << k)) !== 0) kinds.push(KINDS[k]);
    l = Object.freeze(kinds);
    listCache.set(mask, l);
  }
  return l;
}

/** The configured limit of an alarm kind, for lifecycle events. */
function ruleLimit(r: CompiledRule, k: number): number {
  switch (k) {
    case K_DEV: return r.deviation;
    case K_HIHI: return r.hihi;
    case K_HI: return r.hi;
    case K_LO: return r.lo;
    case K_LOLO: return r.lolo;
    case K_RATE: return r.rate;
    case K_Z: return r.zscore;
    case K_FLAT: return r.flatlineMs;
    case K_STALE: return r.staleMs;
    default: return NaN;
  }
}

function describe(k: number, v: unknown, limit: number, dev: number): string {
  const f = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x));
  switch (k) {
    case K_DEV: return `value ${f(v as number)} deviates ${f(dev)} from baseline (limit ±${f(limit)})`;
    case K_HIHI: case K_HI: return `value ${f(v as number)} vs high limit ${f(limit)}`;
    case K_LO: case K_LOLO: return `value ${f(v as number)} vs low limit ${f(limit)}`;
    case K_RATE: return `rate ${f(dev)}/s (limit ±${f(limit)}/s)`;
    case K_Z: return `z-score ${f(dev)} (limit ±${f(limit)})`;
    case K_FLAT: return `value ${String(v)} unchanged for ${f(dev / 1000)} s (limit ${f(limit / 1000)} s)`;
    case K_STALE: return `no reading for ${f(dev / 1000)} s (limit ${f(limit / 1000)} s)`;
    case K_QUAL: return `quality bad (value ${String(v)})`;
    default: return String(v);
  }
}

/** A reading the detector can evaluate: sensorId string and finite numeric ts. */
export function isReading(r: unknown): r is Reading {
  return r !== null && typeof r === 'object' && typeof (r as Reading).sensorId === 'string' && (r as Reading).sensorId !== '' &&
    typeof (r as Reading).ts === 'number' && Number.isFinite((r as Reading).ts);
}

/** Why a value is not a reading (for error messages). */
export function readingProblem(r: unknown): string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'payload is not a reading object';
  const x = r as Record<string, unknown>;
  if (typeof x.sensorId !== 'string' || x.sensorId === '') return 'reading.sensorId must be a non-empty string';
  if (typeof x.ts !== 'number' || !Number.isFinite(x.ts)) return 'reading.ts must be epoch milliseconds';
  return '';
}

/** Sets reading.alarms to the active kinds, only when there are any. */
export function annotateReading(r: Reading & { alarms?: readonly string[] }, list: readonly string[]): void {
  if (list.length !== 0) r.alarms = list;
  else if (r.alarms !== undefined) delete r.alarms;
}
