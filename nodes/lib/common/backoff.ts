// The package's one retry delay: exponential growth with jitter, so a fleet of gateways does not
// hammer a recovering PLC, broker or cloud in step. Used by the OPC-UA session manager, the cloud
// MQTT connection and the store-and-forward delivery loop.

export class Backoff {
  private failures = 0;

  constructor(private minMs: number, private maxMs: number, private random: () => number = Math.random) {}

  /** Failures counted since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** Delay before the next try; grows 2x per failure, between half the step and the step, capped at maxMs (equal jitter). */
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
