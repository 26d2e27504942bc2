// Pure parts of the cloud MQTT connection: merging under backpressure, takeover and answer watchdogs, the
// default client id, CONNACK limits.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { TopicQueue, Job } from '../../nodes/lib/cloud/merge';
import { TakeoverDetector, AnswerWatch, SESSION_TAKEN_OVER } from '../../nodes/lib/cloud/mqtt-health';
import { defaultClientId, installationId, validNodeId, INSTALLATION_FILE } from '../../nodes/lib/cloud/client-id';
import { limitsFromConnack, payloadLimit } from '../../nodes/lib/cloud/broker-limits';
import type { SendResult } from '../../nodes/lib/cloud/errors';

function queued(specs: Array<[string, string, number | undefined]>, answers: SendResult[][]): { q: TopicQueue; jobs: Job[] } {
  const q = new TopicQueue();
  const jobs = specs.map(([topic, body, mergeLimit], i) => {
    answers[i] = [];
    const job: Job = { topic, body, qos: 1, mergeLimit, cb: (r) => answers[i].push(r) };
    q.add(job);
    return job;
  });
  return { q, jobs };
}

describe('cloud units: merging waiting bodies', function () {
  it('merges the front of each topic in turn; a job never overtakes an earlier one of its topic; one answer per input', function () {
    const answers: SendResult[][] = [];
    const { q } = queued([
      ['a', '{"v":1}', 0], ['b', '{"v":2}', 0], ['a', '[{"v":3},{"v":4}]', 0], ['c', '{"v":5}', 0],
      ['b', '{"v":6}', 0], ['c', 'raw', undefined], ['a', '{"v":7}', 0], ['c', '{"v":8}', 0],
    ], answers);
    const out: Job[] = [];
    for (let j = q.next(true); j; j = q.next(true)) out.push(j);
    assert.deepStrictEqual(out.map((j) => [j.topic, j.body]), [
      ['a', '[{"v":1},{"v":3},{"v":4},{"v":7}]'], ['b', '[{"v":2},{"v":6}]'], ['c', '{"v":5}'], ['c', 'raw'], ['c', '{"v":8}'],
    ]);
    assert.strictEqual(q.size, 0);
    out[0].cb({ ok: true });
    assert.deepStrictEqual(answers.map((a) => a.length), [1, 0, 1, 0, 0, 0, 1, 0], 'each merged input answered once');
  });

  it('without backpressure each body goes as it is; merges respect the byte limit; a size refusal of a merge is not final', function () {
    const answers: SendResult[][] = [];
    const { q, jobs } = queued([['a', '{"v":1}', 20], ['a', '{"v":2}', 20], ['a', '{"v":3}', 20], ['z', '{"v":9}', 0]], answers);
    const first = q.next(false) as Job;
    assert.strictEqual(first, jobs[0], 'sent unchanged');
    const rest: Job[] = [];
    for (let j = q.next(true); j; j = q.next(true)) rest.push(j);
    // topics take turns: a, then z, then a again
    assert.deepStrictEqual(rest.map((j) => j.body), ['{"v":9}', '[{"v":2},{"v":3}]']);
    assert.ok(rest.every((j) => Buffer.byteLength(j.body) <= 20));
    rest[1].cb({ ok: false, tooLarge: true, error: 'too large' });
    assert.deepStrictEqual(answers[1], [{ ok: false, error: 'too large' }]);
    const { q: q2 } = queued([['x', '{"v":1}', 0], ['y', '{"v":2}', 0], ['x', '{"v":3}', 0]], []);
    assert.deepStrictEqual(q2.drain().map((j) => j.body), ['{"v":1}', '{"v":3}', '{"v":2}']);
    assert.strictEqual(q2.size, 0);
  });
});

describe('cloud units: takeover and answer watchdogs', function () {
  it('three closes right after connecting make a takeover suspected once; a stable connection ends it', function () {
    const t = new TakeoverDetector(10000);
    assert.strictEqual(t.closed(1000), false, 'never connected: a refused connect is not a takeover');
    let now = 0;
    const cycle = (lived: number, code?: number) => { t.connected(now); now += lived; return t.closed(now, code); };
    assert.strictEqual(cycle(500), false);
    assert.strictEqual(cycle(500), false);
    assert.strictEqual(cycle(500), true);
    assert.strictEqual(cycle(500), false, 'reported once per episode');
    t.stable();
    assert.strictEqual(t.suspected, false);
    assert.strictEqual(cycle(60000), false, 'a long connection is no takeover');
    assert.strictEqual(cycle(60000, SESSION_TAKEN_OVER), true, 'MQTT 5 "session taken over" is certain at once');
  });

  it('asks for a probe after a quiet timeout while an answer is due, declares the link dead when the probe is not answered', function () {
    const w = new AnswerWatch(1000);
    w.reset(0);
    assert.strictEqual(w.check(900, true), 'ok');
    assert.strictEqual(w.check(5000, false), 'ok', 'nothing due: no probe');
    assert.strictEqual(w.check(6000, true), 'probe');
    assert.strictEqual(w.check(6500, true), 'ok');
    w.answered();
    assert.strictEqual(w.check(7000, true), 'ok', 'the probe was answered');
    assert.strictEqual(w.check(8000, true), 'probe');
    assert.strictEqual(w.check(9000, true), 'dead');
  });
});

describe('cloud units: default client id and CONNACK limits', function () {
  it('host name + a hash of installation and node: stable, different per installation and per endpoint, safe characters', function () {
    const a = defaultClientId('inst-a', 'ep1', 'Line 3.Gateway_01.plant.example');
    assert.match(a, /^genix-line-3-gateway-01-plant-[0-9a-f]{8}$/);
    assert.strictEqual(defaultClientId('inst-a', 'ep1', 'Line 3.Gateway_01.plant.example'), a);
    assert.notStrictEqual(defaultClientId('inst-b', 'ep1', 'Line 3.Gateway_01.plant.example'), a);
    assert.notStrictEqual(defaultClientId('inst-a', 'ep2', 'Line 3.Gateway_01.plant.example'), a);
    assert.match(defaultClientId('x', 'y', '***'), /^genix-host-[0-9a-f]{8}$/);
    assert.ok(validNodeId('a1b2c3d4e5f60718') && !validNodeId('../x') && !validNodeId('') && !validNodeId(42));
  });

  it('the installation id is saved once and read back; an unwritable directory still gives an id, marked not persisted', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-inst-'));
    try {
      const first = installationId(dir);
      assert.ok(first.persisted);
      assert.strictEqual(fs.readFileSync(path.join(dir, INSTALLATION_FILE), 'utf8').trim(), first.id);
      assert.strictEqual(installationId(dir).id, first.id);
      const file = path.join(dir, 'not-a-dir');
      fs.writeFileSync(file, 'x');
      const lost = installationId(path.join(file, 'sub'));
      assert.strictEqual(lost.persisted, false);
      assert.match(lost.id, /^[0-9a-f]{24}$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the limits of an MQTT 5 CONNACK; an MQTT 3.1.1 CONNACK states none', function () {
    assert.deepStrictEqual(limitsFromConnack({ sessionPresent: true, properties: { maximumPacketSize: 700, maximumQoS: 0, retainAvailable: false, receiveMaximum: 5, topicAliasMaximum: 2 } }),
      { maxPacketSize: 700, maxQos: 0, retainAvailable: false, receiveMaximum: 5, topicAliasMaximum: 2, sessionPresent: true });
    assert.deepStrictEqual(limitsFromConnack({ returnCode: 0 }), { maxPacketSize: 0, maxQos: 2, retainAvailable: true, receiveMaximum: 65535, topicAliasMaximum: 0, sessionPresent: false });
    assert.strictEqual(payloadLimit(0, 't', true), 0);
    assert.strictEqual(payloadLimit(700, 'ab', true), 700 - (1 + 4 + 2 + 2 + 2 + 4));
    assert.strictEqual(payloadLimit(10, 'a-long-topic', false), -1);
  });
});
