// Message shapes shared by every genix node (see DESIGN.md "Messages"). Pure types, no runtime code.

export type Quality = 'good' | 'uncertain' | 'bad';

/** The canonical reading: msg.payload leaving the normalizer and the OPC-UA poller. */
export interface Reading {
  sensorId: string;
  value: number | boolean | string;
  /** source time, epoch milliseconds UTC */
  ts: number;
  quality: Quality;
  unit?: string;
  measurement?: string;
  plantId?: string;
  lineId?: string;
  assetId?: string;
  tags?: Record<string, string>;
  /** OPC-UA status code name when the source is OPC-UA, e.g. "BadNoCommunication" */
  statusCode?: string;
  /** true: fetched from the source's history after an outage (older than live data already sent) */
  backfill?: boolean;
}

export type AlarmKind = 'hihi' | 'hi' | 'lo' | 'lolo' | 'deviation' | 'rate' | 'zscore' | 'flatline' | 'stale' | 'quality' | 'drift';

/** The anomaly detector's second output: one per alarm state change. */
export interface AlarmEvent {
  sensorId: string;
  kind: AlarmKind;
  state: string; // 'active' | 'cleared' | lifecycle states such as 'acknowledged', 'shelved'
  severity: string | number;
  value: unknown;
  limit?: number;
  deviation?: number;
  ts: number;
  activeSince?: number;
  message: string;
}

/** msg.delivery: how the store-and-forward buffer learns what the cloud has. */
export interface Delivery {
  buffer: string;
  ids: number[];
  attempt: number;
  ok?: boolean;
  error?: string;
  /** the cloud refused this message for good: do not retry */
  permanent?: boolean;
  /** the cloud asked to wait this long before retrying (HTTP Retry-After) */
  retryAfterMs?: number;
}
