// Shapes shared by the parts of the store-and-forward engine.
import type { SqliteQueue } from './queue';
import type { Ledger } from './ledger';
import type { DropReason } from './metrics';
import type { Monotonic } from './expiry';

export type Overflow = 'drop-oldest' | 'drop-newest';
export type BufferState = 'forwarding' | 'waiting' | 'paused';
export type DeliveryOrder = 'fifo' | 'live-first';

export interface BufferOptions {
  /** 0 = no limit */
  maxMessages: number;
  /** 0 = no limit */
  maxBytes: number;
  overflow: Overflow;
  /** 0 = keep forever; counted from acceptance on a monotonic clock (see expiry.ts) */
  ttlMs: number;
  /** forwarded messages (single or batch) awaiting an answer */
  maxInFlight: number;
  /** readings in those messages awaiting an answer, 0 = no limit; what sits downstream unanswered only adds latency */
  maxInFlightReadings: number;
  ackTimeoutMs: number;
  /** stored messages per second during replay, 0 = unlimited */
  replayRate: number;
  /** 'fifo': live data waits until the backlog has gone, so every sensor's readings reach the cloud in order;
   *  'live-first': live data keeps half the in-flight slots during a replay and may overtake the backlog */
  order: DeliveryOrder;
  /** stored messages combined into one replay message */
  replayBatchSize: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** a message that failed this many times, while the messages behind it are delivered, goes to the dead letters */
  maxAttempts: number;
  /** commit at once when this many messages wait (otherwise once per tick) */
  commitMaxRows: number;
  /** messages held in memory while the file cannot be written (SQLite errors); beyond it the overflow policy applies */
  memoryMaxMessages: number;
  storeProperties: string[];
  /** monotonic clock in ms (tests drive TTL with their own) */
  monotonic?: Monotonic;
}

/** One message to forward: a stored message, or a replay batch of several. */
export interface Outgoing {
  seq: number;
  /** this buffer instance's token: an answer must bring it back */
  token: string;
  ids: number[];
  attempt: number;
  batch: boolean;
  topic?: string;
  payload: unknown;
  extra?: Record<string, unknown>;
  readings: number;
}

/** An answer (msg.delivery coming back). Only token + seq + ids identical to what was sent settle anything. */
export interface Reply {
  token?: unknown;
  seq?: unknown;
  ids?: unknown;
  ok?: unknown;
  permanent?: unknown;
  error?: unknown;
  retryAfterMs?: unknown;
}

export interface BufferHooks {
  forward(out: Outgoing): void;
  /** faults the user must see (disk full, corrupt file); reported once per state change or rate-limited */
  fault?(text: string, level: FaultLevel): void;
  /** state or backlog changed noticeably (status refresh) */
  changed?(): void;
}

/** error: something was lost or cannot be stored; warn: ignored input; info: back to normal */
export type FaultLevel = 'error' | 'warn' | 'info';

export type AcceptCallback = (err?: Error | null, dropped?: DropReason) => void;

/** A committed row kept in memory for the live lane. */
export interface Item {
  id: number;
  topic: string | null;
  payload: unknown;
  extra?: Record<string, unknown>;
  /** can share a batch: an object/array payload and no extra properties */
  batchable: boolean;
}

/** What the pump needs from the buffer. */
export interface PumpHost {
  readonly opts: BufferOptions;
  readonly queue: SqliteQueue;
  readonly ledger: Ledger;
  readonly closed: boolean;
  now(): number;
  forward(out: Outgoing): void;
  deadLetter(id: number, error: string): void;
  storeFailed(what: string, err: any): void;
  changed(): void;
}
