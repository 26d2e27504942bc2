// Source timestamps → epoch milliseconds UTC.

export type TsFormat = 'auto' | 's' | 'ms' | 'us' | 'ns' | 'iso' | 'opcua' | 'arrival';
export const TS_FORMATS: readonly TsFormat[] = ['auto', 's', 'ms', 'us', 'ns', 'iso', 'opcua', 'arrival'];

/** Milliseconds between 1601-01-01 (OPC-UA DateTime epoch) and 1970-01-01. */
const OPCUA_EPOCH_OFFSET_MS = 11644473600000;

/** Number → ms by magnitude: s < 1e11 ≤ ms < 1e14 ≤ µs < 1e16 ≤ OPC-UA 100 ns ticks < 1e18 ≤ ns. */
function autoNumber(n: number): number {
  const a = n < 0 ? -n : n;
  if (a < 1e11) return n * 1000;
  if (a < 1e14) return n;
  if (a < 1e16) return n / 1000;
  if (a < 1e18) return n / 1e4 - OPCUA_EPOCH_OFFSET_MS;
  return n / 1e6;
}

function byFormat(n: number, format: TsFormat): number {
  switch (format) {
    case 's': return n * 1000;
    case 'ms': return n;
    case 'us': return n / 1000;
    case 'ns': return n / 1e6;
    case 'opcua': return n / 1e4 - OPCUA_EPOCH_OFFSET_MS;
    default: return autoNumber(n);
  }
}

/** Epoch ms, or NaN when the value is no timestamp in this format. `undefined` input → NaN too (caller decides). */
export function parseTimestamp(v: unknown, format: TsFormat): number {
  let ms: number;
  if (typeof v === 'number') {
    if (format === 'iso') return NaN;
    ms = byFormat(v, format);
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (s === '') return NaN;
    const c = s.charCodeAt(0);
    // Digits only (optionally signed / decimal): a number sent as text.
    if (format !== 'iso' && ((c >= 48 && c <= 57) || c === 45) && /^-?\d+(\.\d+)?$/.test(s)) ms = byFormat(Number(s), format);
    else if (format === 'auto' || format === 'iso' || format === 'opcua') ms = Date.parse(s);
    else return NaN;
  } else if (v instanceof Date) {
    ms = v.getTime();
  } else if (typeof v === 'bigint') {
    ms = byFormat(Number(v), format);
  } else {
    return NaN;
  }
  // Outside years 1970..2300 is a broken clock or a misread field, not a time.
  if (!(ms >= 0 && ms < 10413792000000)) return NaN;
  return Math.round(ms);
}
