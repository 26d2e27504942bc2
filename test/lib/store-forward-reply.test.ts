// genix-store-forward in the real runtime: what it keeps of the delivery replies it consumes.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
const helper = require('node-red-node-test-helper');
import { waitFor } from '../helpers/wait';

const nodes = [require('../../dist/nodes/genix-store-forward.js'), require('@node-red/nodes/core/function/10-function.js')];

// acknowledges unless global cloudMode is 'fail'; a clone of each acknowledged message goes to 'delivered'
const CLOUD = `
if (global.get('cloudMode') === 'fail') { msg.delivery.ok = false; msg.delivery.error = 'broker down'; return [msg, null]; }
msg.delivery.ok = true;
return [msg, RED.util.cloneMessage(msg)];
`;

describe('genix-store-forward replies', function () {
  this.timeout(20000);
  let dir: string;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-reply-')); });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets go of the readings of an acknowledged reply it consumed, keeps them on a failed one', async () => {
    await helper.load(nodes, [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'sf', z: 'tab', type: 'genix-store-forward', dbPath: path.join(dir, 'sf.sqlite'), retryMinMs: 30, retryMaxMs: 100, replayRate: 0, metricsIntervalMs: 0, wires: [['cloud'], []] },
      { id: 'cloud', z: 'tab', type: 'function', func: CLOUD, outputs: 2, wires: [['sf'], ['delivered']] },
      { id: 'delivered', z: 'tab', type: 'helper' },
    ]);
    const sf = helper.getNode('sf');
    sf.context().global.set('cloudMode', 'fail');
    const seqs: number[] = [];
    helper.getNode('delivered').on('input', (msg: any) => { for (const p of [msg.payload].flat()) seqs.push(p.seq); });
    const replies: any[] = [];
    sf.on('input', (msg: any) => { if (msg.delivery) replies.push(msg); });
    for (let i = 0; i < 5; i++) sf.receive({ topic: 'S-1', payload: { sensorId: 'S-1', value: i, seq: i } });
    await waitFor(() => replies.some((m) => m.delivery.ok === false), 'a failed reply');
    assert.notStrictEqual(replies.find((m) => m.delivery.ok === false).payload, undefined, 'a failed reply keeps its payload');
    sf.context().global.set('cloudMode', 'ok');
    sf.receive({ command: 'flush' });
    await waitFor(() => seqs.length >= 5, '5 deliveries');
    assert.deepStrictEqual(seqs, [0, 1, 2, 3, 4], 'the clone sent on has every reading, in order');
    const acked = replies.filter((m) => m.delivery.ok === true);
    assert.ok(acked.length >= 1);
    for (const m of acked) assert.strictEqual(m.payload, undefined, 'an acknowledged reply is consumed');
  });
});
