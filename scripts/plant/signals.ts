/**
 * Simulated plant sensors: deterministic signals with a schedule of injected faults and their
 * ground truth. Pure and seeded: `sample(i, ts)` depends only on the seed, the sensor and the
 * time, so the demo publisher, the anomaly evaluation and the benchmarks all see the same plant.
 *
 * Sensors cycle through four kinds: TEMP-01, PRES-01, VIB-01, HUM-01, TEMP-02, ... and sit on
 * lines of 50 sensors (line-1, line-2, ...). Faults come one at a time, every `faultEveryMs`
 * from `startTs + firstFaultMs`, cycling spike → drift → stuck → dropout on a seeded sensor.
 */

export type SensorKind = 'temperature' | 'pressure' | 'vibration' | 'humidity';
export type FaultKind = 'spike' | 'drift' | 'stuck' | 'dropout';

export interface SensorSpec {
  index: number;
  sensorId: string;
  measurement: SensorKind;
  unit: string;
  lineId: string;
  /** this sensor's normal operating value */
  base: number;
  /** the kind's natural scale: clean signals stay within ±0.6·scale of base, faults exceed 1.5·scale */
  scale: number;
}

/** Ground truth of one injected fault. The fault is visible in the data from `start` to `end` (ms). */
export interface InjectedFault {
  seq: number;
  sensorId: string;
  kind: FaultKind;
  start: number;
  end: number;
  /** offset added at the peak (spike, drift); the frozen value (stuck); absent for dropout */
  magnitude?: number;
}

export interface PlantSignalsOptions {
  sensors?: number;
  rateMs?: number;
  seed?: number;
  startTs?: number;
  /** 'default' schedules faults; 'none' gives clean signals only */
  faults?: 'default' | 'none';
  firstFaultMs?: number;
  faultEveryMs?: number;
  sensorsPerLine?: number;
}

const KINDS: Array<{ prefix: string; measurement: SensorKind; unit: string; base: number; scale: number }> = [
  { prefix: 'TEMP', measurement: 'temperature', unit: 'degC', base: 45, scale: 5 },
  { prefix: 'PRES', measurement: 'pressure', unit: 'bar', base: 3.2, scale: 0.5 },
  { prefix: 'VIB', measurement: 'vibration', unit: 'mm/s', base: 2.5, scale: 1.5 },
  { prefix: 'HUM', measurement: 'humidity', unit: '%RH', base: 40, scale: 8 },
];

export const FAULT_KINDS: FaultKind[] = ['spike', 'drift', 'stuck', 'dropout'];
const FAULT_MS: Record<FaultKind, number> = { spike: 500, drift: 20000, stuck: 15000, dropout: 10000 };

/** 32-bit integer hash (xorshift-multiply), the source of all pseudo-randomness here. */
function hash(a: number, b: number, c: number): number {
  let h = (a * 0x9e3779b1) ^ (b * 0x85ebca77) ^ (c * 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
const unit01 = (a: number, b: number, c: number) => (hash(a, b, c) + 0.5) / 4294967296;

export class PlantSignals {
  readonly sensors: SensorSpec[];
  readonly rateMs: number;
  readonly startTs: number;
  readonly seed: number;
  readonly faultsOn: boolean;
  private readonly firstFaultMs: number;
  private readonly faultEveryMs: number;

  constructor(opts: PlantSignalsOptions = {}) {
    const n = opts.sensors ?? 50;
    this.rateMs = opts.rateMs ?? 100;
    this.seed = opts.seed ?? 1;
    this.startTs = opts.startTs ?? Date.now();
    this.faultsOn = (opts.faults ?? 'default') === 'default';
    this.firstFaultMs = opts.firstFaultMs ?? 20000;
    this.faultEveryMs = Math.max(opts.faultEveryMs ?? 30000, 21000);
    const perLine = opts.sensorsPerLine ?? 50;
    this.sensors = [];
    for (let i = 0; i < n; i++) {
      const k = KINDS[i % KINDS.length];
      const num = Math.floor(i / KINDS.length) + 1;
      const offset = (unit01(this.seed, i, 7) - 0.5) * 0.2 * k.scale;
      this.sensors.push({
        index: i,
        sensorId: `${k.prefix}-${String(num).padStart(2, '0')}`,
        measurement: k.measurement,
        unit: k.unit,
        lineId: `line-${Math.floor(i / perLine) + 1}`,
        base: round(k.base + offset, 3),
        scale: k.scale,
      });
    }
  }

  /** The k-th scheduled fault (k >= 0). */
  fault(k: number): InjectedFault {
    const kind = FAULT_KINDS[k % FAULT_KINDS.length];
    const sensor = this.sensors[hash(this.seed, k, 11) % this.sensors.length];
    const start = this.startTs + this.firstFaultMs + k * this.faultEveryMs;
    const f: InjectedFault = { seq: k, sensorId: sensor.sensorId, kind, start, end: start + FAULT_MS[kind] };
    if (kind === 'spike') f.magnitude = 3 * sensor.scale;
    else if (kind === 'drift') f.magnitude = 2.5 * sensor.scale;
    else if (kind === 'stuck') f.magnitude = this.clean(sensor.index, start);
    return f;
  }

  /** Every fault that has started at or before ts. */
  faultsUntil(ts: number): InjectedFault[] {
    if (!this.faultsOn || this.sensors.length === 0) return [];
    const out: InjectedFault[] = [];
    for (let k = 0; ; k++) {
      const f = this.fault(k);
      if (f.start > ts) return out;
      out.push(f);
    }
  }

  private activeFault(i: number, ts: number): InjectedFault | undefined {
    if (!this.faultsOn) return undefined;
    const t = ts - this.startTs - this.firstFaultMs;
    if (t < 0) return undefined;
    const f = this.fault(Math.floor(t / this.faultEveryMs));
    return f.sensorId === this.sensors[i].sensorId && ts >= f.start && ts < f.end ? f : undefined;
  }

  /** The fault-free signal: base, a slow 10-minute wave and seeded Gaussian noise. */
  clean(i: number, ts: number): number {
    const s = this.sensors[i];
    const tick = Math.floor(ts / this.rateMs);
    const wave = 0.25 * s.scale * Math.sin((2 * Math.PI * (ts - this.startTs)) / 600000 + i);
    const u1 = unit01(this.seed, i, tick);
    const u2 = unit01(this.seed, i, tick ^ 0x5bd1e995);
    const gauss = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    // Clamp the noise so that a clean signal can never look like a fault.
    const noise = Math.max(-4, Math.min(4, gauss)) * 0.05 * s.scale;
    return round(s.base + wave + noise, 3);
  }

  /** Sensor i's value at ts, faults included; undefined while the sensor has dropped out. */
  sample(i: number, ts: number): number | undefined {
    const f = this.activeFault(i, ts);
    if (!f) return this.clean(i, ts);
    switch (f.kind) {
      case 'spike': return round(this.clean(i, ts) + (f.magnitude as number), 3);
      case 'drift': return round(this.clean(i, ts) + (f.magnitude as number) * ((ts - f.start) / (f.end - f.start)), 3);
      case 'stuck': return f.magnitude as number;
      case 'dropout': return undefined;
    }
  }

  /** The seed-style MQTT payload a vendor sensor sends, or undefined during a dropout. */
  message(i: number, ts: number): { sensor_id: string; timestamp: number; [measurement: string]: number | string } | undefined {
    const v = this.sample(i, ts);
    if (v === undefined) return undefined;
    const s = this.sensors[i];
    return { sensor_id: s.sensorId, [s.measurement]: v, timestamp: ts };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
