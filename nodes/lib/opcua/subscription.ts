// A poller's items by subscription: monitored items in chunks, and the subscription's own liveness.
// The server can drop a subscription under a live session (BadSubscriptionIdInvalid after a
// restart that kept the session, lifetime expiry, an operator); the session's keep-alive goes on,
// so each subscription is watched for its own data or keep-alive and recreated when it falls silent.
import {
  ClientMonitoredItemGroup, AttributeIds, TimestampsToReturn, DataChangeFilter,
  DataChangeTrigger, DeadbandType, StatusCodes, DataValue, type ClientSessionRawSubscriptionService,
} from 'node-opcua-client';
import { withTimeout } from './connect-options';
import type { ItemGroup, GroupOptions, ItemError } from './item-group';
import type { Connection, GroupHost } from './group-host';
import { armBackfill, runBackfill } from './history';

const MONITORED_ITEMS_PER_CALL = 1000;

function filterFor(o: GroupOptions): DataChangeFilter | null {
  const trigger = o.trigger === 'status' ? DataChangeTrigger.Status
    : o.trigger === 'status-value-timestamp' ? DataChangeTrigger.StatusValueTimestamp : DataChangeTrigger.StatusValue;
  const type = o.deadbandType ?? 'none';
  if (type === 'none' && trigger === DataChangeTrigger.StatusValue) return null;
  return new DataChangeFilter({
    trigger,
    deadbandType: type === 'absolute' ? DeadbandType.Absolute : type === 'percent' ? DeadbandType.Percent : DeadbandType.None,
    deadbandValue: type === 'none' ? 0 : Number(o.deadbandValue ?? 0),
  });
}

/** Creates the group's subscription and monitored items; returns the items the server refused. */
export async function subscribeGroup(host: GroupHost, conn: Connection, g: ItemGroup): Promise<ItemError[]> {
  const session = conn.session!;
  const o = g.options;
  const s = host.settings;
  const interval = Math.max(0, o.intervalMs);
  const keepAliveCount = Math.max(1, Math.ceil(s.keepAliveMs / Math.max(interval, 1)));
  const sub = await withTimeout(session.createSubscription2({
    requestedPublishingInterval: interval,
    requestedMaxKeepAliveCount: keepAliveCount,
    requestedLifetimeCount: Math.max(keepAliveCount * 3, Math.ceil(s.sessionTimeoutMs / Math.max(interval, 1))),
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 1,
  }), s.requestTimeoutMs, 'create subscription');
  if (conn.dead) return [];
  g.subscription = sub;
  g.lastNotification = Date.now();
  const heard = () => { g.lastNotification = Date.now(); if (g.subscription === sub) host.touchFrom(conn); };
  sub.on('keepalive', heard);
  sub.on('received_notifications', heard);
  const active = g.items.filter((it) => it.resolved);
  const filter = filterFor(o);
  const errors: ItemError[] = [];
  let sampling: number | undefined;
  let queue: number | undefined;
  for (let off = 0; off < active.length; off += MONITORED_ITEMS_PER_CALL) {
    const chunk = active.slice(off, off + MONITORED_ITEMS_PER_CALL);
    const mg = ClientMonitoredItemGroup.create(sub, chunk.map((it) => ({ nodeId: it.resolved!, attributeId: AttributeIds.Value })), {
      samplingInterval: interval,
      queueSize: Math.max(1, o.queueSize ?? 10),
      discardOldest: true,
      filter,
    }, TimestampsToReturn.Both);
    await withTimeout(new Promise<void>((resolve, reject) => {
      mg.once('initialized', () => resolve());
      mg.once('err', (m: string) => reject(new Error(m)));
      mg.once('terminated', (e: Error) => reject(e ?? new Error('monitored items terminated')));
    }), s.requestTimeoutMs, 'create monitored items');
    if (conn.dead) return [];
    g.monitoredGroups.push(mg);
    mg.monitoredItems.forEach((mi: any, k: number) => {
      const it = chunk[k];
      const sc = mi.statusCode;
      if (sc && (sc.value >>> 30) !== 0 && sc.value !== StatusCodes.BadDataUnavailable.value) {
        it.error = `rejected by the server: ${sc.name ?? sc.toString()}`;
        errors.push({ nodeId: it.parsed!.text, sensorId: it.sensorId, error: it.error });
      } else if (mi.result) {
        sampling ??= mi.result.revisedSamplingInterval;
        queue ??= mi.result.revisedQueueSize;
      }
    });
    mg.on('changed', (_mi: any, dv: DataValue, k: number) => {
      // after a repair, data waits until the namespace check has confirmed the item still means the same tag
      if (g.subscription !== sub || !host.usable(conn)) return;
      host.onData(g, chunk[k], dv);
    });
  }
  g.listener.revised?.({ publishingIntervalMs: sub.publishingInterval, samplingIntervalMs: sampling, queueSize: queue });
  return errors;
}

/**
 * How long a subscription may stay silent: the server owes a keep-alive after maxKeepAliveCount
 * empty publishing intervals; twice that plus one request timeout covers a slow or busy server.
 */
export function silenceBoundMs(g: ItemGroup, requestTimeoutMs: number): number {
  const sub = g.subscription;
  if (!sub) return Infinity;
  return 2 * Math.max(1, sub.publishingInterval) * Math.max(1, sub.maxKeepAliveCount) + requestTimeoutMs;
}

/** The server's word on a subscription: GetMonitoredItems answers BadSubscriptionIdInvalid for a dropped one. */
async function subscriptionStatus(host: GroupHost, conn: Connection, g: ItemGroup): Promise<string> {
  try {
    await withTimeout((conn.session as unknown as ClientSessionRawSubscriptionService).getMonitoredItems(g.subscription!.subscriptionId), host.settings.requestTimeoutMs, 'check subscription');
    return 'Good';
  } catch (err) {
    const m = (err as Error).message;
    return /\b(Bad[A-Za-z]+)\b/.exec(m)?.[1] ?? m;
  }
}

/** Deletes what is left of a silent subscription, reports the gap, creates it again. */
export async function recreateSubscription(host: GroupHost, conn: Connection, g: ItemGroup, silentMs: number): Promise<void> {
  if (g.recreating || !g.subscription) return;
  g.recreating = true;
  try {
    const status = await subscriptionStatus(host, conn, g);
    if (!host.usable(conn) || !host.registered(g)) return;
    host.log('warn', `subscription of ${g.id} on ${host.settings.endpointUrl} silent for ${silentMs} ms (server: ${status}); recreating it`);
    host.reportLoss(/^Bad/.test(status) ? status : 'BadNoCommunication', [g]);
    const old = g.subscription;
    g.subscription = undefined;
    g.monitoredGroups = [];
    await withTimeout(old.terminate(), Math.min(host.settings.requestTimeoutMs, 5000), 'delete subscription').catch(() => undefined);
    if (!host.usable(conn) || !host.registered(g)) return;
    // what the server sampled while the subscription was silent comes from its history
    const backfill = armBackfill(g);
    const errors = await subscribeGroup(host, conn, g);
    g.listener.itemErrors?.(errors);
    g.listener.status?.();
    if (backfill) void runBackfill(host, conn, g);
  } catch (err) {
    // the session cannot make a subscription: rebuild the whole connection
    conn.breakWith(`cannot recreate the subscription of ${g.id}: ${(err as Error).message}`);
  } finally {
    g.recreating = false;
  }
}
