// The write side (writer.ts) under a real I/O error: a child process whose file size limit is lowered with
// prlimit, so SQLite's writes fail with SQLITE_IOERR_WRITE. The node must not crash; input waits in memory up to
// its bound, then the overflow policy drops (counted); once writes work again everything held is stored.
import assert from 'assert';
import { execFileSync, fork, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { waitFor } from '../helpers/wait';
import { requirePrereq } from '../helpers/prereq';

function prlimitAvailable(): string | null {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'pipe' });
    return null;
  } catch (err: any) {
    return `prlimit (util-linux) is needed to cause a real I/O error: ${err.message}`;
  }
}

describe('store-forward writer: SQLite I/O errors', function () {
  this.timeout(60000);
  let dir: string;
  let child: ChildProcess | null = null;
  beforeEach(function () {
    const missing = prlimitAvailable();
    requirePrereq(this, !missing, missing ?? '');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-ioerr-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
    it(`${overflow}: holds input in memory up to its bound, counts what the policy drops, stores the rest when writes work again`, async () => {
      const c = fork(path.join(__dirname, 'store-forward-ioerr-child.js'), [path.join(dir, 'io.sqlite'), overflow], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child = c;
      const replies: any[] = [];
      c.on('message', (m: any) => replies.push(m));
      await waitFor(() => replies.some((m) => m.t === 'open'), 'child open');
      const metrics = async (): Promise<any> => {
        const n = replies.length;
        c.send({ t: 'metrics' });
        await waitFor(() => replies.length > n, 'metrics');
        return replies[replies.length - 1];
      };
      // from now on no file of this process may grow past 256 KB
      execFileSync('prlimit', [`--pid=${c.pid}`, '--fsize=262144:']);
      const N = 8000;
      for (let i = 0; i < N; i += 500) {
        c.send({ t: 'feed', from: i, to: i + 500 });
        await new Promise((r) => setTimeout(r, 10));
      }
      const r = await waitFor(async () => { const x = await metrics(); return x.m.storeError && x.done + x.dropped + x.m.heldInMemory === N ? x : null; }, 'every message stored, held or dropped', 20000);
      assert.match(r.m.storeError, /SQLITE_IOERR/);
      assert.ok(r.m.storeErrors > 0);
      assert.strictEqual(r.errors, 0, 'no message failed with an error: they wait or are dropped by the policy');
      assert.strictEqual(r.m.heldInMemory, 2000, 'memory holds its bound');
      assert.strictEqual(r.dropped, r.m.drops.overflow, 'every drop counted as overflow');
      assert.ok(r.dropped > 0);
      assert.ok(r.faults.filter((f: any) => f.level === 'error').length <= 2, `reported once, not per message: ${JSON.stringify(r.faults)}`);
      assert.strictEqual(c.exitCode, null, 'the process is alive');
      // the disk works again
      execFileSync('prlimit', [`--pid=${c.pid}`, '--fsize=unlimited:']);
      const end = await waitFor(async () => { const x = await metrics(); return !x.m.storeError && x.m.heldInMemory === 0 ? x : null; }, 'writes work again', 20000);
      assert.strictEqual(end.done + end.dropped, N);
      assert.strictEqual(end.m.backlog, end.done, 'everything not dropped is stored');
      assert.ok(end.faults.some((f: any) => /can be written again/.test(f.text)));
    });
  }
});
