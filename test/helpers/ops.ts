// The operations tests' flow and scrape helpers (test/e2e/ops*.test.ts).
import assert from 'assert';
import { Readable } from 'stream';
import { getMetricsFromStream, PromMetrics, PromData } from 'prom2javascript';

const TS = 1767225600000; // 2026-01-01T00:00:00Z; the normalizer's clock-skew guard is off by default
const one = JSON.stringify({ sensorId: 'TEMP-01', value: 21.5, ts: TS, unit: 'degC' });
const batch = JSON.stringify([
  { sensorId: 'TEMP-02', value: 20, ts: TS },
  { sensorId: 'TEMP-03', value: 99, ts: TS }, // above hi: 50 → one alarm
  { sensorId: 'TEMP-04', value: 22, ts: TS },
]);

const inject = (id: string, payload: string, payloadType: string, wire: string) => ({
  id, type: 'inject', z: 'tab', props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, topic: '', payload, payloadType, wires: [[wire]],
});

export function opsFlow(): any[] {
  return [
    { id: 'tab', type: 'tab', label: 'ops' },
    inject('inj-one', one, 'json', 'norm'),
    inject('inj-batch', batch, 'json', 'norm'),
    inject('inj-bad', 'not a reading', 'str', 'norm'),
    { id: 'norm', type: 'genix-normalizer', z: 'tab', name: 'normalize', output: 'batch', wires: [['an'], ['invalid']] },
    { id: 'invalid', type: 'junction', z: 'tab', wires: [[]] },
    { id: 'an', type: 'genix-anomaly', z: 'tab', name: 'detect', rules: [{ match: 'TEMP-*', hi: 50 }], wires: [['sf', 'held'], ['alarms']] },
    { id: 'alarms', type: 'junction', z: 'tab', wires: [[]] },
    { id: 'sf', type: 'genix-store-forward', z: 'tab', name: 'to cloud', metricsIntervalMs: 0, retryMinMs: 100, ackTimeoutMs: 5000, wires: [['cloud'], []] },
    { id: 'cloud', type: 'function', z: 'tab', name: 'cloud acks', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['sf']] },
    // paused and small: its backlog stays, and overflow drops the oldest
    { id: 'held', type: 'genix-store-forward', z: 'tab', name: 'held back', startPaused: true, maxMessages: 3, overflow: 'drop-oldest', metricsIntervalMs: 0, wires: [[], []] },
    inject('inj-block', '', 'date', 'busy'),
    { id: 'busy', type: 'function', z: 'tab', name: 'blocks the event loop', func: 'const end = Date.now() + 2500;\nwhile (Date.now() < end) { /* busy */ }\nreturn null;', outputs: 1, wires: [[]] },
  ];
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; metrics?: PromMetrics }> {
  const res = await fetch(`${url}/genix/metrics`, { headers });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, text };
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
  return { status: res.status, text, metrics: await getMetricsFromStream(Readable.from([text])) };
}

/** The one sample of `name` whose labels include `labels` (undefined when there is none). */
export function sample(m: PromMetrics | undefined, name: string, labels: Record<string, string>): PromData | undefined {
  assert.ok(m, 'a parsed scrape');
  const fam = m[name];
  assert.ok(fam, `metric ${name} is exported`);
  const hits = (fam.data as PromData[]).filter((d) => Object.entries(labels).every(([k, v]) => d.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches one series, not ${hits.length}`);
  return hits[0];
}
export const value = (m: PromMetrics | undefined, name: string, labels: Record<string, string> = {}): number => sample(m, name, labels)?.value ?? 0;

