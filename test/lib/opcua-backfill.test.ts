// The last-good file and the per-item holes, without a server: bounded writes, a damaged file,
// and what is persisted while a hole is open.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { LastGoodStore, historyFile } from '../../nodes/lib/opcua/last-good';
import { armBackfill, noteLive, noteBackfilled, closeGap, BACKFILL_DEFAULTS } from '../../nodes/lib/opcua/backfill';
import { ItemGroup } from '../../nodes/lib/opcua/item-group';
import { waitFor } from '../helpers/wait';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'genix-lastgood-'));
const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

function group(store: LastGoodStore): ItemGroup {
  return new ItemGroup('g', { mode: 'subscribe', intervalMs: 100, backfill: { mode: 'auto', ...BACKFILL_DEFAULTS, store } }, [{ nodeId: 'ns=2;i=1', sensorId: 'A' }], { readings: () => undefined });
}
const good = (ts: number) => ({ sensorId: 'A', value: 1, ts, quality: 'good' as const });

describe('opcua history backfill: last-good file and holes', () => {
  it('writes at a bounded rate, not per value, and keeps the newest timestamp', async () => {
    const file = historyFile(tmp(), 'poller/1');
    assert.ok(file.endsWith(path.join('genix-opcua', 'history', 'poller_1.json')));
    const store = new LastGoodStore(file, 300);
    for (let i = 1; i <= 1000; i++) store.note('ns=2;i=1', 1000 + i);
    store.note('ns=2;i=1', 5); // older: ignored
    assert.ok(!fs.existsSync(file), 'nothing written per value');
    await waitFor(() => fs.existsSync(file), 'the file after the flush interval', 5000);
    assert.deepStrictEqual(read(file), { version: 1, items: { 'ns=2;i=1': 2000 } });
    assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['poller_1.json'], 'no temp file left behind');
    store.close();
  });

  it('a damaged file is reported and replaced; the poller starts without timestamps', () => {
    const file = path.join(tmp(), 'p.json');
    fs.writeFileSync(file, '{"version":1,"items":{"ns=2;i=1":12');
    const errors: string[] = [];
    const store = new LastGoodStore(file, 1000, (m) => errors.push(m));
    assert.strictEqual(store.get('ns=2;i=1'), undefined);
    assert.ok(errors.length === 1 && /damaged/.test(errors[0]), errors.join());
    store.note('ns=2;i=1', 42);
    store.close();
    assert.deepStrictEqual(read(file).items, { 'ns=2;i=1': 42 });
    const again = new LastGoodStore(file, 1000);
    assert.strictEqual(again.get('ns=2;i=1'), 42, 'read back after a restart');
    again.discard();
    assert.ok(!fs.existsSync(file), 'a deleted poller takes its file along');
  });

  it('an open hole keeps its start persisted until it is filled; the value sent before the outage is not sent again', () => {
    const file = path.join(tmp(), 'p.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, items: { 'ns=2;i=1': 1000 } }));
    const store = new LastGoodStore(file, 60000);
    const g = group(store);
    const it = g.items[0];
    assert.strictEqual(armBackfill(g), true, 'a remembered timestamp opens a hole');
    assert.deepStrictEqual(it.gaps, [{ from: 1000 }]);
    assert.strictEqual(noteLive(g, it, good(1000)), false, 'the subscription\'s first value, already sent before the outage, is dropped');
    assert.deepStrictEqual(it.gaps, [{ from: 1000, to: 1000 }]);
    closeGap(g, it);
    armBackfill(g);
    assert.strictEqual(noteLive(g, it, good(5000)), true);
    assert.deepStrictEqual(it.gaps, [{ from: 1000, to: 5000 }]);
    assert.strictEqual(noteLive(g, it, good(5100)), true);
    store.close();
    assert.strictEqual(read(file).items['ns=2;i=1'], 1000, 'persisted: the start of the open hole, not the newest live value');
    const store2 = new LastGoodStore(file, 60000);
    (g.options.backfill as any).store = store2;
    noteBackfilled(g, it, 3000);
    store2.flush();
    assert.strictEqual(read(file).items['ns=2;i=1'], 3000, 'the hole start follows what the backfill sent');
    assert.strictEqual(noteLive(g, it, good(2900)), false, 'a live value not newer than a backfilled one is a duplicate');
    closeGap(g, it);
    store2.flush();
    assert.strictEqual(read(file).items['ns=2;i=1'], 5100, 'filled: the newest good value');
    store2.close();
  });
});
