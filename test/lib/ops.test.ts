// Pure logic behind the operations plugin: hook observers, trackers, health evaluation.
import assert from 'assert';
import { Traffic, readingCount } from '../../nodes/lib/ops/traffic';
import { DeliveryLatency } from '../../nodes/lib/ops/delivery';
import { AlarmTracker } from '../../nodes/lib/ops/alarms';
import { SessionTracker } from '../../nodes/lib/ops/sessions';
import { EventLoopWatch, evaluateLiveness, evaluateReadiness, healthOptions, HEALTH_DEFAULTS } from '../../nodes/lib/ops/health';
import { observeSend, observeReceive, HookSinks, installHooks } from '../../nodes/lib/ops/hooks';
import { createOpsMetrics } from '../../nodes/lib/ops/metrics';

function sinks(): HookSinks & { latencies: Array<[string, boolean, number]> } {
  const latencies: Array<[string, boolean, number]> = [];
  return { traffic: new Traffic(), delivery: new DeliveryLatency((b, ok, s) => latencies.push([b, ok, s])), alarms: new AlarmTracker(), latencies };
}
const node = (id: string, type: string, name = '') => ({ id, type, name });
const send = (src: any, port: number, msg: any, dst = 'x') => ({ msg, source: { id: src.id, node: src, port }, destination: { id: dst, node: undefined }, cloneMessage: false });

describe('ops: message hooks', () => {
  it('counts a message wired to several nodes once, and each message of a port array', () => {
    const s = sinks();
    const norm = node('n', 'genix-normalizer');
    const m1 = { payload: [1, 2, 3] };
    const m2 = { payload: 7 };
    observeSend([send(norm, 0, m1, 'a'), send(norm, 0, m1, 'b'), send(norm, 1, m2, 'c'), send(norm, 1, { payload: 8 }, 'c')], s);
    const [t] = s.traffic.snapshot();
    assert.deepStrictEqual(t.messagesOut, [1, 2]);
    assert.deepStrictEqual(t.readingsOut, [3, 2]);
  });

  it('ignores nodes that are not genix-*', () => {
    const s = sinks();
    observeSend([send(node('f', 'function'), 0, { payload: 1 })], s);
    observeReceive({ msg: { payload: 1 }, destination: { id: 'd', node: node('d', 'debug') } }, s);
    assert.deepStrictEqual(s.traffic.snapshot(), []);
  });

  it('times a buffer forward to its answer; the answer is not counted as new input', () => {
    const s = sinks();
    const sf = node('sf', 'genix-store-forward');
    const delivery = { buffer: 'sf', ids: [4, 5], attempt: 1, seq: 9 };
    observeSend([send(sf, 0, { payload: [{}, {}], delivery })], s);
    observeReceive({ msg: { payload: [{}, {}], delivery: { ...delivery, ok: true } }, destination: { id: 'sf', node: sf } }, s);
    assert.strictEqual(s.latencies.length, 1);
    assert.strictEqual(s.latencies[0][0], 'sf');
    assert.strictEqual(s.latencies[0][1], true);
    assert.ok(s.latencies[0][2] >= 0 && s.latencies[0][2] < 5);
    assert.strictEqual(s.traffic.snapshot()[0].messagesIn, 0);
    // an answer for another buffer is data for this one
    observeReceive({ msg: { payload: 1, delivery: { ...delivery, buffer: 'other', ok: true } }, destination: { id: 'sf', node: sf } }, s);
    assert.strictEqual(s.traffic.snapshot()[0].messagesIn, 1);
  });

  it('feeds alarm events from the detector\'s second output only', () => {
    const s = sinks();
    const an = node('an', 'genix-anomaly');
    observeSend([send(an, 0, { payload: { sensorId: 'T', value: 1 } }), send(an, 1, { payload: { sensorId: 'T', kind: 'hi', state: 'active', severity: 'high' } })], s);
    assert.strictEqual(s.alarms.activeCount('an'), 1);
    assert.deepStrictEqual(s.alarms.eventCounts(), [{ node: 'an', kind: 'hi', state: 'active', severity: 'high', count: 1 }]);
  });

  it('a hook that throws inside never reaches the flow', () => {
    const added = new Map<string, (p: any) => void>();
    installHooks({ add: (id, cb) => added.set(id, cb), remove: () => undefined }, sinks());
    assert.deepStrictEqual([...added.keys()], ['onSend.genixOps', 'onReceive.genixOps']);
    const poisoned = { get source(): any { throw new Error('boom'); } };
    assert.strictEqual(added.get('onSend.genixOps')!([poisoned]), undefined);
    assert.strictEqual(added.get('onReceive.genixOps')!(null), undefined);
  });

  it('readings: a batch counts its entries', () => {
    assert.strictEqual(readingCount([1, 2]), 2);
    assert.strictEqual(readingCount({ v: 1 }), 1);
    assert.strictEqual(readingCount(undefined), 1);
  });
});

describe('ops: trackers', () => {
  it('delivery: unanswered forwards are bounded and expire', () => {
    const seen: number[] = [];
    const d = new DeliveryLatency((_b, _ok, s) => seen.push(s), 3);
    for (let i = 0; i < 5; i++) d.forwarded('b', { seq: i }, 1000 + i);
    assert.strictEqual(d.size, 3);
    assert.strictEqual(d.answered('b', { seq: 0, ok: true }, 2000), false, 'the oldest was dropped');
    assert.strictEqual(d.answered('b', { seq: 4, ok: false }, 2004), true);
    assert.deepStrictEqual(seen, [1]);
    d.expire(1000 + 3 + 60001, 60000);
    assert.strictEqual(d.size, 0);
  });

  it('alarms: active until cleared, per sensor and kind', () => {
    const a = new AlarmTracker();
    a.event('an', { sensorId: 'T', kind: 'hi', state: 'active' });
    a.event('an', { sensorId: 'T', kind: 'rate', state: 'active' });
    a.event('an', { sensorId: 'T', kind: 'hi', state: 'acknowledged' });
    assert.strictEqual(a.activeCount('an'), 2);
    a.event('an', { sensorId: 'T', kind: 'hi', state: 'cleared' });
    assert.strictEqual(a.activeCount('an'), 1);
    a.event('an', 'not an event');
    a.prune(() => false);
    assert.deepStrictEqual(a.eventCounts(), []);
  });

  it('sessions: a loss and a reconnect are counted; closing is neither', () => {
    const t = new SessionTracker();
    t.status('ep', { state: 'connecting', attempt: 1 });
    t.status('ep', { state: 'connected', attempt: 0 });
    assert.deepStrictEqual(t.get('ep'), { endpoint: 'ep', state: 'connected', attempt: 0, losses: 0, reconnects: 0 });
    t.status('ep', { state: 'reconnecting', attempt: 1 });
    t.status('ep', { state: 'reconnecting', attempt: 2 });
    t.status('ep', { state: 'connected', attempt: 0 });
    t.status('ep', { state: 'stale', attempt: 0 });
    t.status('ep', { state: 'connected', attempt: 0 });
    t.status('ep', { state: 'closed', attempt: 0 });
    t.status('ep', { state: 'connecting', attempt: 1 });
    t.status('ep', { state: 'connected', attempt: 0 });
    const r = t.get('ep')!;
    assert.strictEqual(r.losses, 2);
    assert.strictEqual(r.reconnects, 2);
  });
});

describe('ops: health', () => {
  it('live: a stall counts until it leaves the window', () => {
    const w = new EventLoopWatch(3000);
    w.sample(0, 10);
    w.sample(500, 2500);
    const opts = { maxEventLoopDelayMs: 1000, windowMs: 3000 };
    assert.strictEqual(evaluateLiveness(w.maxDelayMs(1000), opts).live, false);
    w.sample(3400, 5);
    assert.strictEqual(evaluateLiveness(w.maxDelayMs(3400), opts).live, false, '2.9 s after the stall, within the 3 s window');
    w.sample(3600, 5);
    assert.strictEqual(evaluateLiveness(w.maxDelayMs(3600), opts).live, true);
    assert.strictEqual(evaluateLiveness(w.maxDelayMs(3600, 1500), opts).live, false, 'a stall not sampled yet counts too');
  });

  it('ready: flows started and every buffer open', () => {
    assert.deepStrictEqual(evaluateReadiness(true, [{ id: 'a', open: true }]), { ready: true, flowsStarted: true, buffers: { total: 1, open: 1 }, reasons: [] });
    const r = evaluateReadiness(false, [{ id: 'a', open: true }, { id: 'b', open: false }]);
    assert.strictEqual(r.ready, false);
    assert.deepStrictEqual(r.reasons, ['flows are not started', 'store-and-forward buffer b is not open']);
  });

  it('settings: defaults when blank, a clear error for a typo', () => {
    assert.deepStrictEqual(healthOptions(undefined), HEALTH_DEFAULTS);
    assert.deepStrictEqual(healthOptions({ windowMs: '4000' }), { ...HEALTH_DEFAULTS, windowMs: 4000 });
    assert.throws(() => healthOptions({ maxEventLoopDelayMs: '5 s' }), /genixOps\.health\.maxEventLoopDelayMs must be a finite number/);
    assert.throws(() => healthOptions({ windowMs: 0 }), /genixOps\.health\.windowMs must be > 0/);
  });
});

describe('ops: registry', () => {
  const sources = () => ({
    traffic: new Traffic(), alarms: new AlarmTracker(), sessions: new SessionTracker(),
    buffers: () => [], endpoints: () => [], detectors: () => [], nameOf: () => '',
    health: () => ({ flowsStarted: true, ready: true, live: true, eventLoopMaxDelayMs: 0 }),
  });

  it('forgets the latency series of a buffer that is no longer deployed', async () => {
    const m = createOpsMetrics(sources(), { defaultMetrics: false });
    m.observeDelivery('kept', true, 0.01);
    m.observeDelivery('gone', false, 0.02);
    assert.match(await m.text(), /buffer="gone"/);
    await m.prune((id) => id === 'kept');
    const text = await m.text();
    assert.doesNotMatch(text, /buffer="gone"/);
    assert.match(text, /genix_delivery_latency_seconds_count\{buffer="kept",name="",outcome="ok"\} 1/);
  });

});
