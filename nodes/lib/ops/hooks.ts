// Node-RED message hooks (onSend, onReceive) restricted to genix-* nodes: what they feed.
// Each hook is a few property reads per message for other nodes; errors never reach the flow.
import type { Traffic } from './traffic';
import type { DeliveryLatency } from './delivery';
import type { AlarmTracker } from './alarms';

/** The part of RED.hooks used here. */
export interface HooksApi {
  add(id: string, cb: (payload: any) => void): void;
  remove(id: string): void;
}

export interface HookSinks {
  traffic: Traffic;
  delivery: DeliveryLatency;
  alarms: AlarmTracker;
  /** the last metrics message a buffer sent on its second output */
  bufferMetrics?: (buffer: string, payload: unknown) => void;
}

export const HOOK_LABEL = 'genixOps';

const isGenix = (node: any): boolean => node !== undefined && node !== null && typeof node.type === 'string' && node.type.startsWith('genix-');

export function observeSend(events: any[], s: HookSinks): void {
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    const src = ev.source && ev.source.node;
    if (!isGenix(src)) continue;
    const port: number = ev.source.port ?? 0;
    // one message wired to several nodes is one send: count it once
    let dup = false;
    for (let j = 0; j < i; j++) if (events[j].msg === ev.msg && events[j].source.port === port) { dup = true; break; }
    if (dup) continue;
    const msg = ev.msg;
    if (msg === null || typeof msg !== 'object') continue;
    s.traffic.sent(src, port, msg.payload);
    if (src.type === 'genix-store-forward') {
      if (port === 0 && msg.delivery && typeof msg.delivery === 'object') s.delivery.forwarded(src.id, msg.delivery, Date.now());
      else if (port === 1 && msg.topic === 'metrics' && s.bufferMetrics) s.bufferMetrics(src.id, msg.payload);
    } else if (src.type === 'genix-anomaly' && port === 1) {
      s.alarms.event(src.id, msg.payload);
    }
  }
}

export function observeReceive(ev: any, s: HookSinks): void {
  const dst = ev.destination && ev.destination.node;
  if (!isGenix(dst)) return;
  const msg = ev.msg;
  if (msg === null || typeof msg !== 'object') return;
  if (dst.type === 'genix-store-forward') {
    const d = msg.delivery;
    // a delivery answer coming back is not new data for the buffer
    if (d && typeof d === 'object' && d.buffer === dst.id && typeof d.ok === 'boolean') {
      s.delivery.answered(dst.id, d, Date.now());
      return;
    }
  }
  s.traffic.received(dst, msg.payload);
}

export function installHooks(hooks: HooksApi, s: HookSinks, label = HOOK_LABEL): void {
  removeHooks(hooks, label);
  hooks.add(`onSend.${label}`, (events: any[]) => {
    try { observeSend(events, s); } catch { /* metrics must never break a flow */ }
  });
  hooks.add(`onReceive.${label}`, (ev: any) => {
    try { observeReceive(ev, s); } catch { /* metrics must never break a flow */ }
  });
}

export function removeHooks(hooks: HooksApi, label = HOOK_LABEL): void {
  hooks.remove(`*.${label}`);
}
