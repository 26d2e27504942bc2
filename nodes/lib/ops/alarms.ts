// Alarm counts from the anomaly detector's second output: events by kind/state/severity, and the
// alarms currently active as those events tell it (active → add, cleared → remove).

export interface AlarmEventLike {
  sensorId?: unknown;
  kind?: unknown;
  state?: unknown;
  severity?: unknown;
}

export interface AlarmCount {
  node: string;
  kind: string;
  state: string;
  severity: string;
  count: number;
}

export class AlarmTracker {
  private readonly counts = new Map<string, AlarmCount>();
  private readonly active = new Map<string, Set<string>>();

  event(node: string, ev: unknown): void {
    if (ev === null || typeof ev !== 'object') return;
    const e = ev as AlarmEventLike;
    if (typeof e.state !== 'string' || typeof e.kind !== 'string') return;
    const severity = e.severity === undefined ? '' : String(e.severity);
    const key = `${node}\u0000${e.kind}\u0000${e.state}\u0000${severity}`;
    const c = this.counts.get(key);
    if (c) c.count++;
    else this.counts.set(key, { node, kind: e.kind, state: e.state, severity, count: 1 });
    const alarm = `${String(e.sensorId)}\u0000${e.kind}`;
    if (e.state === 'active') {
      let set = this.active.get(node);
      if (!set) this.active.set(node, (set = new Set()));
      set.add(alarm);
    } else if (e.state === 'cleared') {
      this.active.get(node)?.delete(alarm);
    }
  }

  eventCounts(): AlarmCount[] {
    return [...this.counts.values()];
  }

  activeCount(node: string): number {
    return this.active.get(node)?.size ?? 0;
  }

  nodes(): string[] {
    return [...new Set([...this.active.keys(), ...[...this.counts.values()].map((c) => c.node)])];
  }

  prune(keep: (id: string) => boolean): void {
    for (const [k, c] of this.counts) if (!keep(c.node)) this.counts.delete(k);
    for (const id of [...this.active.keys()]) if (!keep(id)) this.active.delete(id);
  }
}
