// Token bucket that paces replay: `rate` tokens per second, at most `capacity` saved up.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private rate: number, private capacity: number, now: number = Date.now()) {
    this.tokens = capacity;
    this.last = now;
  }

  /** rate 0 means unlimited */
  get unlimited(): boolean {
    return this.rate <= 0;
  }

  available(now: number = Date.now()): number {
    if (this.unlimited) return Infinity;
    this.refill(now);
    return this.tokens;
  }

  /** Takes up to n tokens (whole ones); returns how many were taken. */
  take(n: number, now: number = Date.now()): number {
    if (this.unlimited) return n;
    this.refill(now);
    const got = Math.min(n, Math.floor(this.tokens));
    this.tokens -= got;
    return got;
  }

  /** Milliseconds until at least n tokens are available (0 when they are). */
  waitMs(n: number, now: number = Date.now()): number {
    if (this.unlimited) return 0;
    this.refill(now);
    const need = Math.min(n, this.capacity) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.rate) * 1000);
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (dt * this.rate) / 1000);
      this.last = now;
    }
  }
}
