// Exponential retry delay with jitter, so many gateways do not hammer a recovering cloud in step.

export class Backoff {
  private failures = 0;

  constructor(private minMs: number, private maxMs: number, private random: () => number = Math.random) {}

  get attempts(): number {
    return this.failures;
  }

  /** Delay before the next try; grows 2x per failure, between minMs/2 and the cap (equal jitter). */
  next(): number {
    const exp = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const half = exp / 2;
    return Math.round(half + this.random() * half);
  }

  reset(): void {
    this.failures = 0;
  }
}
