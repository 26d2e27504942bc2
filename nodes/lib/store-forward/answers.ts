// Settling answers: what an acknowledged, refused, failed or timed-out send does to its rows and to the pump.
// A row that keeps failing while the rows behind it are delivered goes to the dead letters (poison message).
import type { Ledger, Rejection, Send } from './ledger';
import type { Accounting } from './accounting';
import type { Writer } from './writer';
import type { Pump } from './pump';
import type { BufferOptions, Reply } from './types';

export interface SettlerHost {
  ledger: Ledger;
  acct: Accounting;
  writer: Writer;
  pump: Pump;
  opts: BufferOptions;
  mono: () => number;
  changed(): void;
}

const DAY = 864e5;

export class Settler {
  deliveredReadings = 0;
  failures = 0;
  timeouts = 0;

  constructor(private h: SettlerHost) {}

  answer(r: Reply): Rejection | null {
    const h = this.h;
    if (!r || typeof r !== 'object' || typeof r.ok !== 'boolean') return this.rejected('malformed');
    const send = h.ledger.match(r);
    if (typeof send === 'string') return this.rejected(send);
    h.ledger.remove(send);
    const error = typeof r.error === 'string' ? r.error : undefined;
    if (r.ok) this.acked(send);
    else if (r.permanent === true) this.refused(send, error ?? 'refused by the cloud');
    else {
      const wait = typeof r.retryAfterMs === 'number' && r.retryAfterMs > 0 && r.retryAfterMs < DAY ? r.retryAfterMs : 0;
      this.failed(send, error ?? 'delivery failed', wait);
    }
    h.pump.schedule();
    return null;
  }

  /** Counted, and reported at most once a minute: a flood of junk answers must not flood the log. */
  private rejected(why: Rejection): Rejection {
    const a = this.h.acct;
    a.rejected[why]++;
    a.limited('answer', `store-forward: ignored an answer that does not prove which rows it carried (${why}; ${a.rejectedTotal} so far). ` +
      'Only the msg.delivery this node sent, returned with ok true/false, settles rows; late answers from before a restart or redeploy are ignored and their rows sent again', 60000, 'warn');
    return why;
  }

  private acked(send: Send): void {
    const { writer, pump } = this.h;
    for (const [lo, hi] of send.ranges) writer.ack(lo, hi);
    this.deliveredReadings += send.readings;
    if (pump.splitIds.size) for (const id of send.ids) pump.splitIds.delete(id);
    const sus = pump.suspect;
    if (sus && send.ids.length === 1 && send.ids[0] === sus.id) pump.suspect = null; // the suspect got through
    else if (sus && sus.stage === 'companion' && send.seq === sus.companion) {
      // the message behind the suspect got through: the cloud works; the suspect gets its last try
      sus.stage = 'last';
      pump.rewindTo(sus.id, sus.id);
    }
    if (send.probe) pump.probeAnswered(send, true);
    writer.schedule();
  }

  private refused(send: Send, error: string): void {
    const { writer, pump } = this.h;
    if (send.ids.length > 1) {
      // find which reading the cloud refuses: retry these rows one by one
      for (const id of send.ids) pump.splitIds.add(id);
      pump.rewindTo(send.ids[0], send.ids[send.ids.length - 1]);
    } else {
      writer.deadLetter(send.ids[0], send.ids[0], error);
      pump.splitIds.delete(send.ids[0]);
      if (pump.suspect?.id === send.ids[0]) pump.suspect = null;
      writer.schedule();
    }
    // the cloud answered, so it is reachable
    if (send.probe) pump.probeAnswered(send, true);
    this.h.changed();
  }

  private failed(send: Send, error: string, retryAfterMs = 0): void {
    const { writer, pump, acct } = this.h;
    this.failures++;
    acct.lastError = error;
    const id = send.ids[0];
    const sus = pump.suspect;
    let from = id;
    if (sus && send.ids.length === 1 && id === sus.id) {
      if (sus.stage === 'last') return this.poison(id, send.attempts, error);
      if (sus.stage === 'head' && send.probe) {
        for (const [lo, hi] of send.ranges) writer.attempt(lo, hi);
        writer.schedule();
        sus.stage = 'companion';
        pump.probeBehind(id);
        return;
      }
      pump.suspect = null;
    } else if (sus && send.seq === sus.companion) {
      // the message behind it failed too: an outage, not a poison message
      pump.suspect = null;
      from = Math.min(id, sus.id);
    }
    for (const [lo, hi] of send.ranges) writer.attempt(lo, hi);
    writer.schedule();
    pump.rewindTo(from, send.ids[send.ids.length - 1]);
    if (send.probe) pump.probeAnswered(send, false);
    pump.failedRound(send, retryAfterMs);
  }

  /** A row that failed maxAttempts times while the message behind it was delivered: dead letter, not an outage. */
  private poison(id: number, attempts: number, error: string): void {
    const { writer, pump } = this.h;
    pump.suspect = null;
    writer.deadLetter(id, id, `failed ${attempts + 1} times while the messages behind it were delivered: ${error}`);
    writer.schedule();
    this.h.changed();
  }

  /** Sends unanswered for ackTimeoutMs count as failed (their late answers then match nothing). Never throws. */
  sweepTimeouts(): void {
    const h = this.h;
    const limit = h.mono() - h.opts.ackTimeoutMs;
    for (const send of h.ledger.values()) {
      if (send.sentAt > limit) break;
      this.timeouts++;
      h.ledger.remove(send);
      this.failed(send, `no answer within ackTimeoutMs (${h.opts.ackTimeoutMs} ms)`);
    }
    h.pump.schedule();
  }
}
