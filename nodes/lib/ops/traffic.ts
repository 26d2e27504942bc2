// Messages and readings in and out of each genix node, counted from Node-RED's message hooks.
// Plain counters in a Map: the hook path stays a few property reads and additions per message.

export interface NodeRef {
  id: string;
  type: string;
  name?: string;
}

export interface NodeTraffic {
  id: string;
  type: string;
  name: string;
  messagesIn: number;
  readingsIn: number;
  /** per output port */
  messagesOut: number[];
  readingsOut: number[];
}

/** A batch (array payload) carries one reading per entry; any other payload is one. */
export function readingCount(payload: unknown): number {
  return Array.isArray(payload) ? payload.length : 1;
}

export class Traffic {
  private readonly nodes = new Map<string, NodeTraffic>();

  private entry(node: NodeRef): NodeTraffic {
    let t = this.nodes.get(node.id);
    if (t === undefined) {
      t = { id: node.id, type: node.type, name: node.name ?? '', messagesIn: 0, readingsIn: 0, messagesOut: [], readingsOut: [] };
      this.nodes.set(node.id, t);
    }
    return t;
  }

  received(node: NodeRef, payload: unknown): void {
    const t = this.entry(node);
    t.messagesIn++;
    t.readingsIn += readingCount(payload);
  }

  sent(node: NodeRef, port: number, payload: unknown): void {
    const t = this.entry(node);
    while (t.messagesOut.length <= port) {
      t.messagesOut.push(0);
      t.readingsOut.push(0);
    }
    t.messagesOut[port]++;
    t.readingsOut[port] += readingCount(payload);
  }

  snapshot(): NodeTraffic[] {
    return [...this.nodes.values()];
  }

  /** Forgets nodes that are no longer deployed. */
  prune(keep: (id: string) => boolean): void {
    for (const id of [...this.nodes.keys()]) if (!keep(id)) this.nodes.delete(id);
  }
}
