/**
 * A plant for judging anomaly detectors: sensors reporting every second and every five minutes,
 * with natural cycles, noise and a fixed resolution, and labelled faults — slow drift, a stuck
 * sensor, a ramp to failure, a step change and a dropout (stale). Pure and seeded: `value(i, ts)`
 * depends only on the seed, the sensor and the time, so tests and the benchmark see the same plant.
 *
 * The first `cleanMs` (default one day) has no faults: every detector may learn there. After it,
 * each sensor gets one fault every `everyMs` of its kind (2 h for 1-s sensors, 1 day for 5-min
 * sensors), the kinds taking turns, each starting at a seeded offset inside its slot.
 */

export type SimFaultKind = 'drift' | 'stuck' | 'ramp' | 'step' | 'dropout';
export const SIM_FAULT_KINDS: SimFaultKind[] = ['step', 'drift', 'stuck', 'ramp', 'dropout'];

export interface SimSensor {
  index: number;
  sensorId: string;
  periodMs: number;
  /** reading phase within the period (sensors do not all report at the same instant) */
  phaseMs: number;
  base: number;
  noise: number;
  /** natural cycle: amplitude and period */
  cycle: number;
  cycleMs: number;
  resolution: number;
  /** the natural scale: √(noise² + cycle²/2), the σ of a clean signal */
  scale: number;
}

/** Ground truth: the fault is in the data from start to end (ms, end exclusive). */
export interface SimFault {
  sensorId: string;
  kind: SimFaultKind;
  start: number;
  end: number;
  periodMs: number;
}

export interface AnomalySimOptions {
  seed?: number;
  startTs?: number;
  fast?: number;
  slow?: number;
  fastMs?: number;
  slowMs?: number;
  faults?: boolean;
  cleanMs?: number;
}

const HOUR = 3600000;
/** fault length and slot per sensor speed */
const FAST_SLOT = 2 * HOUR;
const SLOW_SLOT = 24 * HOUR;
const FAST_LEN: Record<SimFaultKind, number> = { step: 10 * 60000, drift: 30 * 60000, stuck: 10 * 60000, ramp: 20 * 60000, dropout: 5 * 60000 };
const SLOW_LEN: Record<SimFaultKind, number> = { step: 4 * HOUR, drift: 12 * HOUR, stuck: 4 * HOUR, ramp: 8 * HOUR, dropout: 2 * HOUR };

function hash(a: number, b: number, c: number): number {
  let h = (a * 0x9e3779b1) ^ (b * 0x85ebca77) ^ (c * 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
const unit01 = (a: number, b: number, c: number) => (hash(a, b, c) + 0.5) / 4294967296;

export class AnomalySim {
  readonly sensors: SimSensor[] = [];
  readonly startTs: number;
  readonly seed: number;
  readonly faultsOn: boolean;
  readonly cleanMs: number;

  constructor(opts: AnomalySimOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.startTs = opts.startTs ?? Date.UTC(2026, 0, 1);
    this.faultsOn = opts.faults ?? true;
    this.cleanMs = opts.cleanMs ?? 24 * HOUR;
    const fastMs = opts.fastMs ?? 1000;
    const slowMs = opts.slowMs ?? 300000;
    const add = (prefix: string, n: number, periodMs: number, noise: number, cycle: number, cycleMs: number, base0: number) => {
      for (let k = 0; k < n; k++) {
        const index = this.sensors.length;
        const base = base0 + 5 * k + Math.round(unit01(this.seed, index, 1) * 100) / 10;
        this.sensors.push({
          index, sensorId: `${prefix}-${String(k + 1).padStart(2, '0')}`, periodMs, phaseMs: periodMs >= 60000 ? Math.floor(unit01(this.seed, index, 2) * periodMs / 1000) * 1000 : 0,
          base, noise, cycle, cycleMs, resolution: 0.01, scale: Math.sqrt(noise * noise + (cycle * cycle) / 2),
        });
      }
    };
    add('FAST', opts.fast ?? 6, fastMs, 0.2, 0.4, 2 * HOUR, 50);
    add('SLOW', opts.slow ?? 12, slowMs, 0.3, 0.6, 24 * HOUR, 70);
  }

  /** The fault of sensor i in its slot number `slot` (0 = the first slot after the clean time). */
  fault(i: number, slot: number): SimFault {
    const s = this.sensors[i];
    const fast = s.periodMs < 60000;
    const slotMs = fast ? FAST_SLOT : SLOW_SLOT;
    const kind = SIM_FAULT_KINDS[(slot + i) % SIM_FAULT_KINDS.length];
    const len = (fast ? FAST_LEN : SLOW_LEN)[kind];
    // start inside the slot, leaving at least a third of the slot after the fault for recovery
    const room = slotMs - len - slotMs / 3;
    const start = this.startTs + this.cleanMs + slot * slotMs + Math.floor(unit01(this.seed, i, 100 + slot) * room / 1000) * 1000;
    return { sensorId: s.sensorId, kind, start, end: start + len, periodMs: s.periodMs };
  }

  /** Every fault that starts before endTs. */
  faultsUntil(endTs: number): SimFault[] {
    const out: SimFault[] = [];
    if (!this.faultsOn) return out;
    for (let i = 0; i < this.sensors.length; i++) {
      for (let slot = 0; ; slot++) {
        const f = this.fault(i, slot);
        if (f.start >= endTs) break;
        out.push(f);
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  private faultAt(i: number, ts: number): SimFault | undefined {
    if (!this.faultsOn) return undefined;
    const t = ts - this.startTs - this.cleanMs;
    if (t < 0) return undefined;
    const fast = this.sensors[i].periodMs < 60000;
    const f = this.fault(i, Math.floor(t / (fast ? FAST_SLOT : SLOW_SLOT)));
    return ts >= f.start && ts < f.end ? f : undefined;
  }

  /** The clean signal: base, a natural cycle, Gaussian noise (clamped at 4σ), rounded to the resolution. */
  clean(i: number, ts: number): number {
    const s = this.sensors[i];
    const tick = Math.floor(ts / s.periodMs);
    const cyc = s.cycle * Math.sin((2 * Math.PI * (ts - this.startTs)) / s.cycleMs + i * 1.7);
    const u1 = unit01(this.seed, i, tick);
    const u2 = unit01(this.seed, i, tick ^ 0x5bd1e995);
    const g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return this.quantize(s, s.base + cyc + Math.max(-4, Math.min(4, g)) * s.noise);
  }

  private quantize(s: SimSensor, v: number): number {
    return Math.round(v / s.resolution) * s.resolution;
  }

  /** Sensor i's reading at ts (a multiple of its period plus its phase), or undefined during a dropout. */
  value(i: number, ts: number): number | undefined {
    const f = this.faultAt(i, ts);
    if (!f) return this.clean(i, ts);
    const s = this.sensors[i];
    const x = (ts - f.start) / (f.end - f.start);
    switch (f.kind) {
      case 'step': return this.quantize(s, this.clean(i, ts) + 6 * s.scale);
      case 'drift': return this.quantize(s, this.clean(i, ts) + 5 * s.scale * x);
      case 'ramp': return this.quantize(s, this.clean(i, ts) + 25 * s.scale * x * x);
      case 'stuck': {
        // frozen at the last reading before the fault
        const before = f.start - ((f.start - this.startTs - s.phaseMs) % s.periodMs || s.periodMs);
        return this.clean(i, before);
      }
      case 'dropout': return undefined;
    }
  }

  /**
   * Every reading from `from` to `to` in time order, in steps of the fastest period: calls emit for
   * each step with the readings due then (the same array object, refilled).
   */
  replay(from: number, to: number, emit: (ts: number, readings: Array<{ sensorId: string; value: number; ts: number; quality: 'good' }>) => void): number {
    const step = Math.min(...this.sensors.map((s) => s.periodMs));
    const batch: Array<{ sensorId: string; value: number; ts: number; quality: 'good' }> = [];
    const pool = this.sensors.map((s) => ({ sensorId: s.sensorId, value: 0, ts: 0, quality: 'good' as const }));
    let n = 0;
    for (let ts = from; ts < to; ts += step) {
      batch.length = 0;
      for (let i = 0; i < this.sensors.length; i++) {
        const s = this.sensors[i];
        if ((ts - this.startTs - s.phaseMs) % s.periodMs !== 0) continue;
        const v = this.value(i, ts);
        if (v === undefined) continue;
        const r = pool[i];
        r.value = v;
        r.ts = ts;
        batch.push(r);
      }
      n += batch.length;
      if (batch.length) emit(ts, batch);
    }
    return n;
  }
}
