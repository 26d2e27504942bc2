// A poller's items by cyclic Read, time-aligned to the interval. A Read that fails or does not
// answer within the request timeout makes one bad reading per item it covered, so the gap shows.
import { AttributeIds, StatusCodes } from 'node-opcua-client';
import { withTimeout } from './connect-options';
import type { ItemGroup, ItemError } from './item-group';
import type { Connection, GroupHost } from './group-host';

const REJECTED = new Set<number>([
  StatusCodes.BadNodeIdUnknown.value, StatusCodes.BadNodeIdInvalid.value, StatusCodes.BadAttributeIdInvalid.value,
  StatusCodes.BadNotReadable.value, StatusCodes.BadUserAccessDenied.value,
]);

/** One Read of every item at start: items the server will never serve are reported by name. */
export async function checkPollItems(host: GroupHost, conn: Connection, g: ItemGroup): Promise<ItemError[]> {
  const active = g.items.filter((it) => it.resolved);
  if (!active.length) return [];
  const dvs = await withTimeout(conn.session!.read(active.map((it) => ({ nodeId: it.resolved!, attributeId: AttributeIds.Value }))), host.settings.requestTimeoutMs, 'read');
  const errors: ItemError[] = [];
  dvs.forEach((dv, k) => {
    if (REJECTED.has(dv.statusCode?.value ?? 0)) {
      const it = active[k];
      it.error = `rejected by the server: ${dv.statusCode.name}`;
      errors.push({ nodeId: it.parsed!.text, sensorId: it.sensorId, error: it.error });
    }
  });
  return errors;
}

export function schedulePoll(host: GroupHost, conn: Connection, g: ItemGroup): void {
  const interval = Math.max(10, g.options.intervalMs);
  const tick = () => {
    if (conn.dead || !host.registered(g)) return;
    // time-aligned: the next cycle starts on the next multiple of the interval
    const now = Date.now();
    g.pollTimer = setTimeout(tick, interval - (now % interval));
    if (g.readInFlight) { g.skippedCycles++; return; }
    if (conn.lostAt !== undefined) return;
    pollOnce(host, conn, g);
  };
  const now = Date.now();
  g.pollTimer = setTimeout(tick, interval - (now % interval));
}

/** Status name for a failed Read: the service result when the server sent one, else a timeout or communication error. */
function failureCode(err: Error): string {
  const m = /\b(Bad[A-Za-z]+)\b/.exec(err.message);
  if (m) return m[1];
  return /timed out/i.test(err.message) ? 'BadTimeout' : 'BadCommunicationError';
}

function pollOnce(host: GroupHost, conn: Connection, g: ItemGroup): void {
  const active = g.items.filter((it) => it.resolved && !it.error);
  if (!active.length || !conn.session) return;
  g.readInFlight = true;
  const read = conn.session.read(active.map((it) => ({ nodeId: it.resolved!, attributeId: AttributeIds.Value })), 0);
  // the cycle stays busy until the server answers (late answers are dropped: their gap was reported)
  void read.then(() => undefined, () => undefined).finally(() => { g.readInFlight = false; });
  withTimeout(read, host.settings.requestTimeoutMs, 'cyclic read')
    .then((dvs) => {
      if (!host.usable(conn) || !host.registered(g)) return;
      host.touchFrom(conn);
      dvs.forEach((dv, k) => host.onData(g, active[k], dv));
    })
    .catch((err: Error) => {
      if (conn.dead || !host.registered(g)) return;
      host.log('warn', `cyclic read of ${active.length} items failed: ${err.message}`);
      host.reportLoss(failureCode(err), [g]);
    });
}
