// TTL (expiry.ts): ages the process measured itself run on a monotonic clock; a wall-clock step neither expires
// nor keeps the backlog; across a restart the stored accept time counts from the clock anchor at open.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { StoreForwardBuffer, AcceptClock } from '../../nodes/lib/store-forward';
import { waitFor } from '../helpers/wait';

describe('store-forward expiry', () => {
  let dir: string;
  const realNow = Date.now;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-ttl-')); });
  afterEach(() => {
    Date.now = realNow;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('AcceptClock moves with the monotonic clock only, and never behind the newest stored time', () => {
    let mono = 1000;
    const c = new AcceptClock(null, () => mono, 5_000_000);
    mono += 250;
    assert.strictEqual(c.now(), 5_000_250);
    const behind = new AcceptClock(9_000_000, () => mono, 5_000_000);
    assert.strictEqual(behind.now(), 9_000_000, 'a clock behind the stored rows starts from the newest of them');
  });

  async function filled(monotonic: () => number, n: number, ttlMs: number): Promise<StoreForwardBuffer> {
    const b = new StoreForwardBuffer({ path: path.join(dir, 't.sqlite'), owner: 'a' }, { ttlMs, monotonic }, { forward: () => undefined });
    b.pause();
    let done = 0;
    for (let i = 0; i < n; i++) b.accept({ payload: { i } }, () => { done++; });
    await waitFor(() => done === n, 'stored');
    return b;
  }

  it('a wall-clock step forward by a day expires nothing; the monotonic age does', async () => {
    let mono = 0;
    const b = await filled(() => mono, 100, 60000);
    const wall = realNow();
    Date.now = () => wall + 86400000;
    b.expire();
    assert.strictEqual(b.metrics().drops.ttl, 0, 'a clock step is not an age');
    assert.strictEqual(b.backlog, 100);
    Date.now = () => wall - 86400000;
    mono += 60001;
    b.expire();
    assert.strictEqual(b.metrics().drops.ttl, 100, 'a clock step back does not keep what is older than ttlMs');
    assert.strictEqual(b.backlog, 0);
    b.close();
  });

  it('after a restart, older rows keep their age from the stored accept time; a clock behind them keeps them', async () => {
    let mono = 0;
    let b = await filled(() => mono, 10, 60000);
    mono += 30000;
    b.close();
    // restart with the wall clock far behind (a box without RTC before NTP): the rows are not older than when stored
    const wall = realNow();
    Date.now = () => wall - 10 * 86400000;
    b = new StoreForwardBuffer({ path: path.join(dir, 't.sqlite'), owner: 'a' }, { ttlMs: 60000, monotonic: () => mono }, { forward: () => undefined });
    b.pause();
    b.expire();
    assert.strictEqual(b.backlog, 10);
    mono += 60001;
    b.expire();
    assert.strictEqual(b.metrics().drops.ttl, 10);
    b.close();
  });
});
