// Which failures are worth retrying: the store-and-forward buffer keeps transient ones and drops permanent ones.

export interface SendResult {
  ok: boolean;
  error?: string;
  /** the cloud refused this message for good: retrying cannot help */
  permanent?: boolean;
  /** the cloud asked us to wait this long before retrying */
  retryAfterMs?: number;
  /**
   * the far end refused the size of this message (never in msg.delivery): several readings are split and sent again;
   * 'likely' when the refusal named no message and this was the largest in flight (then never final)
   */
  tooLarge?: boolean | 'likely';
  /** the ids the far end gave the delivered messages (Pub/Sub), when it names them */
  ids?: string[];
}

export const OK: SendResult = Object.freeze({ ok: true }) as SendResult;

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = (Array.isArray(value) ? value[0] : value).trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(parseFloat(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** HTTP status → delivery result: 2xx ok; 408, 429, 5xx (and anything unexpected) transient; other 4xx permanent. */
export function classifyHttpStatus(status: number, retryAfter?: string | string[], now = Date.now()): SendResult {
  if (status >= 200 && status < 300) return OK;
  const r: SendResult = { ok: false, error: `HTTP ${status}` };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) r.permanent = true;
  const ra = parseRetryAfter(retryAfter, now);
  if (ra !== undefined && !r.permanent) r.retryAfterMs = ra;
  return r;
}

// MQTT 5 reason codes (PUBACK or DISCONNECT) that will not change on a retry of the same message.
const PERMANENT_MQTT_REASONS = new Set([
  0x87, // not authorized
  0x90, // topic name invalid
  0x95, // packet too large (a batch of several readings is split instead, see CloudPublisher)
  0x99, // payload format invalid
]);
export const PACKET_TOO_LARGE = 0x95;

/** An mqtt.js publish error → delivery result; reason codes not listed above (quota, busy, unspecified…) are retried. */
export function classifyMqttError(err: any): SendResult {
  const code = typeof err?.code === 'number' ? err.code : undefined;
  const r: SendResult = { ok: false, error: err?.message ? String(err.message) : String(err) };
  if (code !== undefined) {
    r.error = `${r.error} (reason code 0x${code.toString(16)})`;
    if (PERMANENT_MQTT_REASONS.has(code)) r.permanent = true;
    if (code === PACKET_TOO_LARGE) r.tooLarge = true;
  }
  return r;
}

/** Keeps secrets out of anything a user or log can see. */
export function redact(text: string, secrets: Array<string | undefined>): string {
  let s = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 3 && s.includes(secret)) s = s.split(secret).join('***');
  }
  return s;
}

// gRPC status codes (Pub/Sub answers with these) that a retry of the same message cannot change.
const PERMANENT_GRPC = new Map<number, string>([
  [3, 'INVALID_ARGUMENT'],
  [5, 'NOT_FOUND'],
  [6, 'ALREADY_EXISTS'],
  [7, 'PERMISSION_DENIED'],
  [9, 'FAILED_PRECONDITION'],
  [11, 'OUT_OF_RANGE'],
  [12, 'UNIMPLEMENTED'],
  [16, 'UNAUTHENTICATED'],
]);
const TRANSIENT_GRPC = new Map<number, string>([
  [1, 'CANCELLED'],
  [2, 'UNKNOWN'],
  [4, 'DEADLINE_EXCEEDED'],
  [8, 'RESOURCE_EXHAUSTED'],
  [10, 'ABORTED'],
  [13, 'INTERNAL'],
  [14, 'UNAVAILABLE'],
  [15, 'DATA_LOSS'],
]);

/** A gRPC error (numeric `code`) → delivery result; codes not listed (and errors without one) are retried. */
export function classifyGrpcError(err: any, secrets: Array<string | undefined> = []): SendResult {
  const code = typeof err?.code === 'number' ? err.code : undefined;
  // the client's timeout error lists every retried attempt: the first line says it
  const text = redact(err?.details || err?.message ? String(err.details || err.message) : String(err), secrets).split(' : Previous errors')[0].slice(0, 500);
  if (code === undefined) return { ok: false, error: text };
  const name = PERMANENT_GRPC.get(code) ?? TRANSIENT_GRPC.get(code) ?? `code ${code}`;
  const r: SendResult = { ok: false, error: `${name}: ${text}` };
  if (PERMANENT_GRPC.has(code)) r.permanent = true;
  return r;
}
