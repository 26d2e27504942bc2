// The package's one parser for numeric settings: node dialogs save numbers as numbers or as text,
// and rules arrive as JSON. Blank means "not set".

export interface NumberLimits {
  /** smallest accepted value (inclusive) */
  min?: number;
  /** the value must be strictly greater than 0 */
  positive?: boolean;
  /** the value must be a whole number */
  integer?: boolean;
}

/** undefined when blank (undefined, null, ''), NaN when not a finite number, else the number. */
export function parseNumber(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v !== 'string') return NaN;
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : NaN;
}

/** Why n breaks the limits, or '' when it keeps them. */
function broken(n: number, lim: NumberLimits): string {
  if (lim.positive && n <= 0) return 'must be > 0';
  if (lim.min !== undefined && n < lim.min) return `must be >= ${lim.min}`;
  if (lim.integer && !Number.isInteger(n)) return 'must be a whole number';
  return '';
}

/** A lenient setting: the default when blank, not a number or outside the limits. */
export function numberOr<D extends number | undefined>(v: unknown, dflt: D, lim: NumberLimits = { min: 0 }): number | D {
  const n = parseNumber(v);
  if (n === undefined || Number.isNaN(n) || broken(n, lim)) return dflt;
  return n;
}

/**
 * A strict setting: the default when blank; an Error naming `what` when the value is not a number
 * or breaks the limits, so a typo in a dialog or a rule is reported instead of silently replaced.
 */
export function requireNumber<D extends number | undefined>(v: unknown, what: string, dflt: D, lim: NumberLimits = {}): number | D {
  const n = parseNumber(v);
  if (n === undefined) return dflt;
  if (Number.isNaN(n)) throw new Error(`${what} must be a finite number (got "${String(v).slice(0, 40)}")`);
  const why = broken(n, lim);
  if (why) throw new Error(`${what} ${why} (got ${n})`);
  return n;
}
