// Delivery latency: from the buffer forwarding a stored message (msg.delivery on its first output)
// to the answer (msg.delivery.ok) coming back into that buffer.

export interface DeliveryRef {
  buffer?: unknown;
  ids?: unknown;
  attempt?: unknown;
  seq?: unknown;
  ok?: unknown;
}

export type LatencySink = (buffer: string, ok: boolean, seconds: number) => void;

function keyOf(buffer: string, d: DeliveryRef): string {
  const first = Array.isArray(d.ids) && d.ids.length > 0 ? String(d.ids[0]) : '';
  return `${buffer}\u0000${String(d.seq ?? '')}\u0000${first}\u0000${String(d.attempt ?? '')}`;
}

export class DeliveryLatency {
  /** key → forwarded at (ms); insertion order is time order */
  private readonly pending = new Map<string, number>();

  constructor(private readonly sink: LatencySink, private readonly maxPending = 20000) {}

  forwarded(buffer: string, d: DeliveryRef, now: number): void {
    const key = keyOf(buffer, d);
    this.pending.delete(key);
    this.pending.set(key, now);
    // answers that never come (ack timeout, redeploy) must not grow the map without bound
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
  }

  /** An answer for `buffer`; observed once, when its forward was seen. */
  answered(buffer: string, d: DeliveryRef, now: number): boolean {
    const key = keyOf(buffer, d);
    const at = this.pending.get(key);
    if (at === undefined) return false;
    this.pending.delete(key);
    this.sink(buffer, d.ok === true, Math.max(0, now - at) / 1000);
    return true;
  }

  /** Drops forwards older than maxAgeMs (their answer is not coming). */
  expire(now: number, maxAgeMs: number): void {
    for (const [key, at] of this.pending) {
      if (now - at <= maxAgeMs) break;
      this.pending.delete(key);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
