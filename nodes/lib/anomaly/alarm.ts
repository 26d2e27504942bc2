// The alarm lifecycle: activation (with chattering and its auto-shelve), clearing, shelving and
// unshelving of one alarm (sensor × kind). Events and episodes are built in events.ts. No node-red import.
import type { AnomalyDetector } from './detector';
import { KINDS } from './rules';
import { AlarmRecord, SensorState, record, limitOf } from './sensor';
import { activeList, describe } from './text';
import { emit, episodeOn, episodeOff, countActivation } from './events';

export function activate(d: AnomalyDetector, s: SensorState, k: number, t: number, v: unknown, limit: number, dev: number): void {
  const a = record(s, k);
  if (a.shelvedUntil > 0 && a.shelvedUntil <= t) unshelveRecord(d, s, a, a.shelvedUntil);
  s.active |= 1 << k;
  d.activeCount++;
  d.changes++;
  s.list = activeList(s.active);
  a.on = true;
  a.acked = false;
  a.value = v;
  const chatter = t - a.act1 <= d.chatterWindowMs;
  a.act1 = a.act0;
  a.act0 = t;
  const shelved = a.shelvedUntil > 0;
  if (!shelved) {
    const msg = `${s.sensorId} ${KINDS[k]} alarm: ${describe(k, v, limit, dev)}`;
    if (!d.group) {
      countActivation(d, t);
      emit(d, s, a, 'active', t, v, limit, dev, msg);
    } else {
      episodeOn(d, s, a, t, v, limit, dev, msg);
    }
  }
  if (chatter && !a.chattering) {
    a.chattering = true;
    if (!shelved) emit(d, s, a, 'chattering', t, v, limit, NaN, `${s.sensorId} ${KINDS[k]} alarm is chattering (3 activations within ${d.chatterWindowMs / 1000} s)`);
    if (s.rule.chatterShelveMs > 0 && !shelved) shelveRecord(d, s, a, t + s.rule.chatterShelveMs, t, 'chattering');
  } else if (!chatter && a.chattering) {
    a.chattering = false;
  }
}

export function clear(d: AnomalyDetector, s: SensorState, k: number, t: number, v: unknown, limit: number, dev: number, why = ''): void {
  const a = record(s, k);
  s.active &= ~(1 << k);
  d.activeCount--;
  d.changes++;
  s.list = activeList(s.active);
  a.value = v;
  if (a.shelvedUntil === 0) {
    const msg = `${s.sensorId} ${KINDS[k]} alarm cleared${why ? ` (${why})` : `: ${describe(k, v, limit, dev)}`}`;
    if (!d.group) emit(d, s, a, 'cleared', t, v, limit, dev, msg);
    else episodeOff(d, s, t, v, limit, dev, msg);
  }
  a.on = false;
}

export function shelveRecord(d: AnomalyDetector, s: SensorState, a: AlarmRecord, until: number, t: number, why: string): void {
  if (a.shelvedUntil === 0) d.shelvedCount++;
  a.shelvedUntil = until;
  d.changes++;
  emit(d, s, a, 'shelved', t, a.value, limitOf(s, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm shelved until ${new Date(until).toISOString()} (${why})`);
}

export function unshelveRecord(d: AnomalyDetector, s: SensorState, a: AlarmRecord, t: number): void {
  if (a.shelvedUntil === 0) return;
  a.shelvedUntil = 0;
  d.shelvedCount--;
  d.changes++;
  const active = (s.active & (1 << a.kind)) !== 0;
  emit(d, s, a, 'unshelved', t, a.value, limitOf(s, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm unshelved${active ? ', still active' : ''}`);
}
