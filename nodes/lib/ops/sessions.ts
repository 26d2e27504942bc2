// OPC-UA session state per endpoint from the session manager's status events: current state,
// session losses (connected → anything else) and reconnects (connected again after a loss).

export interface SessionStatusLike {
  state?: unknown;
  attempt?: unknown;
}

export interface SessionRecord {
  endpoint: string;
  state: string;
  attempt: number;
  losses: number;
  reconnects: number;
}

export const SESSION_STATES = ['connecting', 'connected', 'reconnecting', 'stale', 'error', 'closed'] as const;

export class SessionTracker {
  private readonly endpoints = new Map<string, SessionRecord & { lost: boolean }>();

  status(endpoint: string, s: SessionStatusLike): void {
    const state = typeof s.state === 'string' ? s.state : 'unknown';
    const attempt = typeof s.attempt === 'number' && Number.isFinite(s.attempt) ? s.attempt : 0;
    let r = this.endpoints.get(endpoint);
    if (!r) this.endpoints.set(endpoint, (r = { endpoint, state, attempt, losses: 0, reconnects: 0, lost: false }));
    else {
      // closing (redeploy, shutdown) is not a loss
      if (r.state === 'connected' && state !== 'connected' && state !== 'closed') {
        r.losses++;
        r.lost = true;
      } else if (state === 'connected' && r.state !== 'connected' && r.lost) {
        r.reconnects++;
        r.lost = false;
      }
      r.state = state;
      r.attempt = attempt;
    }
  }

  get(endpoint: string): SessionRecord | undefined {
    const r = this.endpoints.get(endpoint);
    return r && { endpoint: r.endpoint, state: r.state, attempt: r.attempt, losses: r.losses, reconnects: r.reconnects };
  }

  all(): SessionRecord[] {
    return [...this.endpoints.keys()].map((k) => this.get(k)!);
  }

  prune(keep: (id: string) => boolean): void {
    for (const id of [...this.endpoints.keys()]) if (!keep(id)) this.endpoints.delete(id);
  }
}
