// Two ways an MQTT link fails without an error: another client with our id keeps taking the session over,
// and a half-open TCP connection that accepts writes but never answers.

/** MQTT 5 DISCONNECT reason: another connection with the same client id took the session. */
export const SESSION_TAKEN_OVER = 0x8e;

/**
 * Counts connections the broker or network closed soon after CONNACK. Two gateways sharing one client id
 * kick each other off right after every connect; a few such closes in a row, or an MQTT 5 "session taken
 * over", is reported once as a suspected takeover loop.
 */
export class TakeoverDetector {
  private connectedAt: number | null = null;
  private shortInARow = 0;
  suspected = false;

  constructor(private readonly stableMs: number, private readonly threshold = 3) {}

  connected(now: number): void {
    this.connectedAt = now;
  }

  /** A close we caused ourselves: not counted either way. */
  forget(): void {
    this.connectedAt = null;
  }

  /** The connection survived `stableMs`: whatever happened before is over. */
  stable(): void {
    this.shortInARow = 0;
    this.suspected = false;
  }

  /** A connection closed that we did not close. True when this close makes the loop suspected (once per episode). */
  closed(now: number, reasonCode?: number): boolean {
    const at = this.connectedAt;
    this.connectedAt = null;
    if (at === null) return false; // never connected: a refused or failed connect is not a takeover
    if (reasonCode === SESSION_TAKEN_OVER) this.shortInARow = Math.max(this.shortInARow + 1, this.threshold);
    else if (now - at < this.stableMs) this.shortInARow++;
    else this.shortInARow = 0;
    if (this.shortInARow >= this.threshold && !this.suspected) {
      this.suspected = true;
      return true;
    }
    return false;
  }

  get shortCloses(): number {
    return this.shortInARow;
  }
}

export type Verdict = 'ok' | 'probe' | 'dead';

/**
 * Watches for answers from the broker. While an answer is expected (publishes in flight, or always when
 * keepalive is 0 and mqtt.js sends no pings) and none came for `timeoutMs`, ask for a probe; if the probe
 * also stays unanswered for `timeoutMs`, the connection is dead.
 */
export class AnswerWatch {
  private heard = 0;
  private seen = 0;
  private quietSince = 0;
  private probeAt = 0;

  constructor(readonly timeoutMs: number) {}

  /** Any answer from the broker (a PUBACK, a probe's answer). Called per acknowledgement: kept to one increment. */
  answered(): void {
    this.heard++;
  }

  reset(now: number): void {
    this.seen = this.heard;
    this.quietSince = now;
    this.probeAt = 0;
  }

  check(now: number, expecting: boolean): Verdict {
    if (this.heard !== this.seen || !expecting) {
      this.reset(now);
      return 'ok';
    }
    if (this.probeAt) return now - this.probeAt >= this.timeoutMs ? 'dead' : 'ok';
    if (now - this.quietSince >= this.timeoutMs) {
      this.probeAt = now;
      return 'probe';
    }
    return 'ok';
  }
}
