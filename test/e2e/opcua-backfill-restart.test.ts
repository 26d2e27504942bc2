// History backfill across a gateway crash: a real Node-RED child process reads 100 historizing tags,
// is killed with SIGKILL, stays down 10 s and is started again on the same user directory. The
// persisted last-good timestamps must make it fetch exactly what the server recorded while it was
// down. Readings leave the child through a core file node (one JSON array per line), which keeps
// what it wrote across the kill.
import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { startPlant, tempUserDir, fastTiming } from '../helpers/opcua';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { waitFor, sleep } from '../helpers/wait';
import { requirePrereq } from '../helpers/prereq';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';

const built = fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'nodes', 'genix-opcua-poller.js'));
const ITEMS = Array.from({ length: 100 }, (_, k) => ({ nodeId: `ns=2;i=${100000 + k}`, sensorId: `B${k}` }));
/** the poller writes its last-good file at most once a second: a crash may send up to that again */
const FLUSH_MS = 1000;

function readLines(file: string): any[][] {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
  // the last line may be cut short by the kill
  return text.split('\n').filter((l) => l.trim()).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Array.isArray);
}

describe('genix-opcua-poller history backfill across a gateway restart', function () {
  this.timeout(150000);
  let plant: PlantOpcuaServer | undefined;
  let red: RedProcess | undefined;

  after(async () => {
    await red?.kill('SIGKILL');
    await plant?.stop();
  });

  it('SIGKILL, 10 s down, start again: what the server recorded meanwhile is sent once, in order, flagged', async function () {
    requirePrereq(this, built, 'dist/ is not built (run node scripts/build.js)');
    plant = await startPlant({ extraItems: ITEMS.length, rateMs: 100, history: { maxOnlineValues: 1000 } });
    const userDir = tempUserDir();
    const out = path.join(userDir, 'readings.jsonl');
    const flows = [
      { id: 't1', type: 'tab', label: 'backfill' },
      { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl: plant.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', ...fastTiming },
      { id: 'p1', type: 'genix-opcua-poller', z: 't1', endpoint: 'ep', mode: 'subscribe', intervalMs: 100, output: 'batch', items: ITEMS, backfill: 'auto', wires: [['f1'], []] },
      { id: 'f1', type: 'file', z: 't1', filename: out, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
    ];
    red = await startRedProcess({ userDir, flows });
    const good = (rs: any[], id: string) => rs.filter((r) => r.sensorId === id && r.quality === 'good');
    await waitFor(() => { const rs = readLines(out).flat(); return ITEMS.every((it) => good(rs, it.sensorId).length >= 20); }, 'two seconds of live values of every item', 30000, 200);
    await red.kill('SIGKILL');
    const first = readLines(out).flat();
    const linesBefore = readLines(out).length;
    assert.ok(fs.existsSync(path.join(userDir, 'genix-opcua', 'history', 'p1.json')), 'the last-good file exists');
    await sleep(10000);
    red = await startRedProcess({ userDir, port: red.port });

    const second = () => readLines(out).slice(linesBefore).flat();
    // done when every item has live data again and its backfill has reached the end of its hole
    const holes = new Map<string, { from: number; to: number }>();
    await waitFor(() => {
      const rs = second();
      return ITEMS.every((it) => {
        const live = good(rs, it.sensorId).filter((r) => !r.backfill);
        if (!live.length) return false;
        const from = Math.max(...good(first, it.sensorId).map((r) => r.ts));
        const to = Math.min(...live.map((r) => r.ts));
        holes.set(it.sensorId, { from, to });
        const filled = rs.filter((r) => r.sensorId === it.sensorId && r.backfill).map((r) => r.ts);
        return filled.length > 0 && Math.max(...filled) >= to - 200;
      });
    }, 'the backfill of every item after the restart', 60000, 200);
    await sleep(1000);

    const rs = second();
    let expectedTotal = 0;
    let resent = 0;
    for (const it of ITEMS) {
      const { from, to } = holes.get(it.sensorId)!;
      assert.ok(to - from >= 10000, `${it.sensorId}: the hole spans the downtime (${to - from} ms)`);
      const expected: number[] = (await plant.recorded(it.nodeId, from + 1, to - 1)).map((v) => v.ts);
      expectedTotal += expected.length;
      const filled = rs.filter((r) => r.sensorId === it.sensorId && r.backfill);
      assert.ok(filled.every((r) => r.quality === 'good' && typeof r.value === 'number'), `${it.sensorId}: original quality and value`);
      assert.deepStrictEqual(filled.filter((r) => r.ts > from).map((r) => r.ts), expected, `${it.sensorId}: the server's history of the downtime, in order, once`);
      // values the killed process had sent after its last write of the last-good file come again, identical
      const again = filled.filter((r) => r.ts <= from);
      resent += again.length;
      const sentBefore = new Map(good(first, it.sensorId).map((r) => [r.ts, r.value]));
      assert.ok(again.every((r) => sentBefore.get(r.ts) === r.value), `${it.sensorId}: re-sent values are identical to what was sent before the kill`);
      // the flush interval, plus room for a late timer on a loaded machine
      assert.ok(again.length === 0 || from - again[0].ts <= FLUSH_MS * 3, `${it.sensorId}: re-sent values cover about the last-good flush interval (${again.length ? from - again[0].ts : 0} ms)`);
      const ts2 = good(rs, it.sensorId).map((r) => r.ts);
      assert.strictEqual(new Set(ts2).size, ts2.length, `${it.sensorId}: nothing sent twice after the restart`);
    }
    assert.ok(expectedTotal >= ITEMS.length * 95, `the server recorded the downtime (${expectedTotal} values)`);
    process.stdout.write(`      (${expectedTotal} values backfilled after the restart; ${resent} values re-sent from the last second before the kill)\n`);
    await red.stop();
    red = undefined;
  });
});
