// Operator actions on the anomaly detector: acknowledge, shelve, unshelve, and the sensor selection
// (exact sensorId, glob, or every sensor) they and reset share.
import type { AnomalyDetector } from './detector';
import type { SensorState } from './sensor';
import { record, limitOf } from './sensor';
import { shelveRecord, unshelveRecord } from './alarm';
import { emit } from './events';
import { KINDS } from './rules';
import { compileGlob } from './glob';

export function kindIndex(kind: string | undefined): number {
  if (kind === undefined || kind === '' || kind === '*') return -1;
  const k = (KINDS as readonly string[]).indexOf(kind);
  if (k < 0) throw new Error(`unknown alarm kind "${kind}" (one of ${KINDS.join(', ')})`);
  return k;
}

/** Calls fn for the sensor named, every sensor matching a glob, or all (undefined or "*"); returns how many. */
export function selectSensors(d: AnomalyDetector, sensorId: string | undefined, fn: (s: SensorState) => void): number {
  if (sensorId === undefined || sensorId === '*') {
    for (const s of d.list.slice()) fn(s);
    return d.list.length;
  }
  const exact = d.sensors.get(sensorId);
  if (exact) {
    fn(exact);
    return 1;
  }
  const test = compileGlob(sensorId);
  let n = 0;
  for (const s of d.list.slice()) if (test(s.sensorId)) { fn(s); n++; }
  return n;
}

export function ackAlarms(d: AnomalyDetector, sensorId: string | undefined, kind: string | undefined, t: number): number {
  const k = kindIndex(kind);
  let n = 0;
  selectSensors(d, sensorId, (s) => {
    for (let a = s.alarms; a !== null; a = a.next) {
      if ((k >= 0 && a.kind !== k) || (s.active & (1 << a.kind)) === 0 || a.acked) continue;
      a.acked = true;
      n++;
      d.changes++;
      emit(d, s, a, 'acknowledged', t, a.value, limitOf(s, a.kind), NaN, `${s.sensorId} ${KINDS[a.kind]} alarm acknowledged`);
    }
  });
  return n;
}

export function shelveAlarms(d: AnomalyDetector, sensorId: string | undefined, kind: string | undefined, durationMs: number, t: number): number {
  const k = kindIndex(kind);
  let n = 0;
  selectSensors(d, sensorId, (s) => {
    if (k >= 0) {
      if ((s.rule.mask & (1 << k)) === 0) return;
      shelveRecord(d, s, record(s, k), t + durationMs, t, 'operator');
      n++;
      return;
    }
    for (let a = s.alarms; a !== null; a = a.next) {
      if ((s.active & (1 << a.kind)) === 0) continue;
      shelveRecord(d, s, a, t + durationMs, t, 'operator');
      n++;
    }
  });
  return n;
}

export function unshelveAlarms(d: AnomalyDetector, sensorId: string | undefined, kind: string | undefined, t: number): number {
  const k = kindIndex(kind);
  let n = 0;
  selectSensors(d, sensorId, (s) => {
    for (let a = s.alarms; a !== null; a = a.next) {
      if (a.shelvedUntil === 0 || (k >= 0 && a.kind !== k)) continue;
      unshelveRecord(d, s, a, t);
      n++;
    }
  });
  return n;
}
