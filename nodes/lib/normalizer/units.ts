// Units, measurements and linear conversions. Pure data and lookups: everything here is resolved
// at deploy time or cached per distinct key, never rebuilt per reading.

export type Dimension = 'temperature' | 'pressure' | 'velocity' | 'acceleration' | 'humidity' | 'current' | 'voltage' | 'ratio';

interface UnitDef {
  /** canonical spelling used in readings */
  unit: string;
  dim: Dimension;
  /** base = value * scale + offset */
  scale: number;
  offset: number;
  aliases: string[];
}

// Base units: degC, Pa, mm/s, m/s², %RH, mA, V, %.
const UNITS: UnitDef[] = [
  { unit: 'degC', dim: 'temperature', scale: 1, offset: 0, aliases: ['degc', '°c', 'c', 'celsius', 'deg_c', 'degreec', 'degreesc', 'centigrade', '℃'] },
  { unit: 'degF', dim: 'temperature', scale: 5 / 9, offset: -32 * 5 / 9, aliases: ['degf', '°f', 'f', 'fahrenheit', 'deg_f', '℉'] },
  { unit: 'K', dim: 'temperature', scale: 1, offset: -273.15, aliases: ['k', 'kelvin'] },
  { unit: 'Pa', dim: 'pressure', scale: 1, offset: 0, aliases: ['pa', 'pascal'] },
  { unit: 'hPa', dim: 'pressure', scale: 100, offset: 0, aliases: ['hpa'] },
  { unit: 'kPa', dim: 'pressure', scale: 1000, offset: 0, aliases: ['kpa'] },
  { unit: 'MPa', dim: 'pressure', scale: 1e6, offset: 0, aliases: ['mpa'] },
  { unit: 'bar', dim: 'pressure', scale: 1e5, offset: 0, aliases: ['bar', 'bars'] },
  { unit: 'mbar', dim: 'pressure', scale: 100, offset: 0, aliases: ['mbar', 'millibar'] },
  { unit: 'psi', dim: 'pressure', scale: 6894.757293168361, offset: 0, aliases: ['psi', 'lbf/in2', 'lbf/in²'] },
  { unit: 'mm/s', dim: 'velocity', scale: 1, offset: 0, aliases: ['mm/s', 'mm_s', 'mms', 'mmps', 'mm/sec'] },
  { unit: 'in/s', dim: 'velocity', scale: 25.4, offset: 0, aliases: ['in/s', 'in_s', 'ips', 'inps', 'in/sec'] },
  { unit: 'm/s', dim: 'velocity', scale: 1000, offset: 0, aliases: ['m/s', 'm_s', 'mps'] },
  { unit: 'm/s²', dim: 'acceleration', scale: 1, offset: 0, aliases: ['m/s²', 'm/s2', 'm/s^2', 'm_s2', 'ms2', 'mps2'] },
  { unit: 'g', dim: 'acceleration', scale: 9.80665, offset: 0, aliases: ['g', 'gn', 'g0'] },
  { unit: 'mm/s²', dim: 'acceleration', scale: 0.001, offset: 0, aliases: ['mm/s²', 'mm/s2', 'mm_s2'] },
  { unit: '%RH', dim: 'humidity', scale: 1, offset: 0, aliases: ['%rh', 'rh', '%_rh', 'pct_rh', 'percent_rh'] },
  { unit: 'mA', dim: 'current', scale: 1, offset: 0, aliases: ['ma', 'milliamp', 'milliampere'] },
  { unit: 'A', dim: 'current', scale: 1000, offset: 0, aliases: ['a', 'amp', 'ampere', 'amps'] },
  { unit: 'µA', dim: 'current', scale: 0.001, offset: 0, aliases: ['µa', 'ua', 'μa'] },
  { unit: 'V', dim: 'voltage', scale: 1, offset: 0, aliases: ['v', 'volt', 'volts'] },
  { unit: 'mV', dim: 'voltage', scale: 0.001, offset: 0, aliases: ['mv', 'millivolt'] },
  { unit: '%', dim: 'ratio', scale: 1, offset: 0, aliases: ['%', 'pct', 'percent'] },
];

const BY_ALIAS = new Map<string, UnitDef>();
for (const u of UNITS) {
  BY_ALIAS.set(u.unit.toLowerCase(), u);
  for (const a of u.aliases) BY_ALIAS.set(a, u);
}
const BY_CANONICAL = new Map<string, UnitDef>(UNITS.map((u) => [u.unit, u]));

/** Canonical unit for a spelling ("°C", "celsius", "DEGC" → "degC"), or undefined when unknown. */
export function canonicalUnit(spelling: string): string | undefined {
  const exact = BY_CANONICAL.get(spelling);
  if (exact) return exact.unit;
  const u = BY_ALIAS.get(spelling.trim().toLowerCase());
  return u ? u.unit : undefined;
}

export function unitDimension(unit: string): Dimension | undefined {
  return BY_CANONICAL.get(unit)?.dim;
}

/** value expressed in the base unit of its dimension; NaN when the unit is unknown. */
export function inBase(unit: string, v: number): number {
  const u = BY_CANONICAL.get(unit);
  return u ? v * u.scale + u.offset : NaN;
}

export function knownUnits(): string[] {
  return UNITS.map((u) => u.unit);
}

/** y = x * a + b */
export interface Linear { a: number; b: number }

/** The linear map from one canonical unit to another, or undefined when they measure different things. */
export function conversion(from: string, to: string): Linear | undefined {
  const f = BY_CANONICAL.get(from);
  const t = BY_CANONICAL.get(to);
  if (!f || !t || f.dim !== t.dim) return undefined;
  return { a: f.scale / t.scale, b: (f.offset - t.offset) / t.scale };
}

/** value → base unit of its dimension (for plausibility limits kept in base units). */
export function toBase(unit: string): Linear | undefined {
  const u = BY_CANONICAL.get(unit);
  return u ? { a: u.scale, b: u.offset } : undefined;
}

export interface MeasurementDef {
  measurement: string;
  dim?: Dimension;
  /** unit assumed when the payload does not say (only where the name leaves no doubt) */
  assumedUnit?: string;
  /** physically plausible range in the dimension's base unit */
  min?: number;
  max?: number;
  /** range used when the unit is unknown: loose enough for every unit of the dimension */
  looseMin?: number;
  looseMax?: number;
}

const MEASUREMENTS: Array<MeasurementDef & { aliases: string[] }> = [
  { measurement: 'temperature', dim: 'temperature', min: -273.15, max: 2500, looseMin: -460, looseMax: 4600, aliases: ['temp', 'tmp', 'temperature'] },
  { measurement: 'pressure', dim: 'pressure', min: -1.1e5, max: 1e9, aliases: ['press', 'pres', 'pressure'] },
  { measurement: 'vibration', dim: 'velocity', min: -2000, max: 2000, aliases: ['vib', 'vibration', 'velocity', 'vibration_velocity'] },
  { measurement: 'acceleration', dim: 'acceleration', min: -2e4, max: 2e4, aliases: ['accel', 'acc', 'acceleration'] },
  { measurement: 'humidity', dim: 'humidity', assumedUnit: '%RH', min: 0, max: 100, looseMin: 0, looseMax: 100, aliases: ['hum', 'humidity', 'rh', 'relative_humidity', 'relativehumidity'] },
  { measurement: 'current', dim: 'current', aliases: ['current', 'curr'] },
  { measurement: 'voltage', dim: 'voltage', aliases: ['voltage', 'volt'] },
];
const MEASUREMENT_BY_ALIAS = new Map<string, MeasurementDef>();
for (const m of MEASUREMENTS) for (const a of m.aliases) MEASUREMENT_BY_ALIAS.set(a, m);
const MEASUREMENT_BY_NAME = new Map<string, MeasurementDef>(MEASUREMENTS.map((m) => [m.measurement, m]));
const MEASUREMENT_BY_DIM = new Map<Dimension, MeasurementDef>();
for (const m of MEASUREMENTS) if (m.dim && !MEASUREMENT_BY_DIM.has(m.dim)) MEASUREMENT_BY_DIM.set(m.dim, m);

export function measurementDef(name: string): MeasurementDef | undefined {
  return MEASUREMENT_BY_NAME.get(name);
}

/** The measurement a unit implies when nothing else names it (bar → pressure). */
export function measurementForUnit(unit: string): string | undefined {
  const d = unitDimension(unit);
  return d ? MEASUREMENT_BY_DIM.get(d)?.measurement : undefined;
}

export interface KeyMeaning {
  measurement: string;
  unit?: string;
  /** true when the measurement is analog: booleans and text are not values for it */
  numeric: boolean;
}

/**
 * What a payload key names: "temperature" → temperature, "temp_f" → temperature in degF,
 * "pressure_kpa" → pressure in kPa, "vib_mm_s" → vibration in mm/s, "battery" → battery.
 */
export function parseMeasurementKey(key: string): KeyMeaning {
  const lower = key.toLowerCase();
  const direct = MEASUREMENT_BY_ALIAS.get(lower);
  if (direct) return { measurement: direct.measurement, unit: direct.assumedUnit, numeric: true };
  // Longest unit suffix first: "vib_mm_s" tries "mm_s" before "s".
  for (let i = lower.indexOf('_'); i > 0; i = lower.indexOf('_', i + 1)) {
    const unit = canonicalUnit(lower.slice(i + 1));
    if (!unit) continue;
    const m = MEASUREMENT_BY_ALIAS.get(lower.slice(0, i));
    if (m) return { measurement: m.measurement, unit, numeric: true };
    return { measurement: key.slice(0, i), unit, numeric: true };
  }
  return { measurement: key, numeric: false };
}
