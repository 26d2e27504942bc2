// Health for Kubernetes probes. Live: the event loop has not stalled longer than a limit within a
// recent window. Ready: flows are started and every store-and-forward buffer has its file open.
import { requireNumber } from '../common/numbers';

export interface HealthOptions {
  /** a stall longer than this within the window makes the process not live (default 5000 ms) */
  maxEventLoopDelayMs: number;
  /** how long a stall is remembered (default 10000 ms); keep it below the probe period × (failureThreshold − 1) */
  windowMs: number;
}

export const HEALTH_DEFAULTS: HealthOptions = { maxEventLoopDelayMs: 5000, windowMs: 10000 };

/** Per-interval maxima of the event-loop delay, kept for `windowMs`. */
export class EventLoopWatch {
  private readonly samples: Array<[number, number]> = [];

  constructor(private readonly windowMs: number) {}

  sample(now: number, delayMs: number): void {
    this.samples.push([now, delayMs]);
    while (this.samples.length > 0 && now - this.samples[0][0] > this.windowMs) this.samples.shift();
  }

  /** the largest delay seen within the window, `extraMs` included (a delay not yet sampled) */
  maxDelayMs(now: number, extraMs = 0): number {
    let max = extraMs;
    for (const [t, d] of this.samples) if (now - t <= this.windowMs && d > max) max = d;
    return max;
  }
}

export interface Liveness {
  live: boolean;
  eventLoopMaxDelayMs: number;
  reasons: string[];
}

export function evaluateLiveness(maxDelayMs: number, opts: HealthOptions): Liveness {
  const live = maxDelayMs <= opts.maxEventLoopDelayMs;
  const reasons = live ? [] : [`the event loop stalled for ${Math.round(maxDelayMs)} ms within the last ${opts.windowMs} ms (limit ${opts.maxEventLoopDelayMs} ms)`];
  return { live, eventLoopMaxDelayMs: Math.round(maxDelayMs), reasons };
}

export interface BufferState {
  id: string;
  open: boolean;
}

export interface Readiness {
  ready: boolean;
  flowsStarted: boolean;
  buffers: { total: number; open: number };
  reasons: string[];
}

export function evaluateReadiness(flowsStarted: boolean, buffers: BufferState[]): Readiness {
  const reasons: string[] = [];
  if (!flowsStarted) reasons.push('flows are not started');
  const closed = buffers.filter((b) => !b.open);
  for (const b of closed) reasons.push(`store-and-forward buffer ${b.id} is not open`);
  return {
    ready: reasons.length === 0,
    flowsStarted,
    buffers: { total: buffers.length, open: buffers.length - closed.length },
    reasons,
  };
}

/** Options from settings.js `genixOps.health`; defaults when blank, an Error naming a bad value. */
export function healthOptions(raw: unknown): HealthOptions {
  const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    maxEventLoopDelayMs: requireNumber(o.maxEventLoopDelayMs, 'genixOps.health.maxEventLoopDelayMs', HEALTH_DEFAULTS.maxEventLoopDelayMs, { positive: true }),
    windowMs: requireNumber(o.windowMs, 'genixOps.health.windowMs', HEALTH_DEFAULTS.windowMs, { positive: true }),
  };
}
