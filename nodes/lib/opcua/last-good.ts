// The source timestamp of the last good value per item, kept in a small JSON file so that a
// restarted gateway knows where each item's history backfill starts. Written atomically (temp
// file + rename) at most once per flush interval, never per value.
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface LastGoodFile {
  version: 1;
  /** key (the item's NodeId text) → epoch ms of the last good source timestamp emitted */
  items: Record<string, number>;
}

/** <userDir>/genix-opcua/history/<poller id>.json (the id made safe for a file name) */
export function historyFile(userDir: string | undefined, pollerId: string): string {
  const base = userDir || path.join(os.homedir(), '.node-red');
  return path.join(base, 'genix-opcua', 'history', `${pollerId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

export class LastGoodStore {
  private items = new Map<string, number>();
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private writing = false;
  private seq = 0;
  /** sequence number of the last synchronous write: a background write started before it must not replace it */
  private syncSeq = 0;
  /** set when the file could not be read (the store starts empty) or written */
  lastError?: string;

  constructor(readonly file: string, readonly flushMs = 1000, private readonly onError?: (m: string) => void) {
    this.load();
  }

  get(key: string): number | undefined { return this.items.get(key); }

  /** Records ts for key when it is newer; the file follows within flushMs. */
  note(key: string, ts: number): void {
    if (this.closed || !Number.isFinite(ts)) return;
    const old = this.items.get(key);
    if (old !== undefined && old >= ts) return;
    this.items.set(key, ts);
    this.dirty = true;
    this.schedule();
  }

  /** Writes now when something changed, synchronously (on close, and in tests). */
  flush(): void {
    if (!this.dirty && !this.writing) return;
    this.dirty = false;
    const tmp = this.tmpName();
    this.syncSeq = this.seq;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, this.snapshot());
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      this.lastError = undefined;
    } catch (err) {
      this.dirty = true;
      this.fail(`cannot write ${this.file}: ${(err as Error).message}`);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // a background write still in flight is superseded by this one and will not rename over it
    this.closed = true;
    this.flush();
  }

  /** The poller was deleted from the flow: its file goes too. */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
    try { fs.rmSync(this.file, { force: true }); } catch (err) { this.fail(`cannot remove ${this.file}: ${(err as Error).message}`); }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.flushInBackground(); }, this.flushMs);
    this.timer.unref?.();
  }

  /** The periodic write: off the event loop (a 10,000-item file takes about 20 ms with fsync). */
  private async flushInBackground(): Promise<void> {
    if (this.writing || !this.dirty || this.closed) return;
    this.writing = true;
    this.dirty = false;
    const body = this.snapshot();
    const tmp = this.tmpName();
    const mine = this.seq;
    try {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.promises.open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.closed || this.syncSeq > mine) await fs.promises.unlink(tmp);
      else await fs.promises.rename(tmp, this.file);
      this.lastError = undefined;
    } catch (err) {
      this.dirty = true;
      await fs.promises.unlink(tmp).catch(() => undefined);
      this.fail(`cannot write ${this.file}: ${(err as Error).message}`);
    } finally {
      this.writing = false;
      if (this.dirty) this.schedule();
    }
  }

  private snapshot(): string {
    const body: LastGoodFile = { version: 1, items: Object.fromEntries(this.items) };
    return JSON.stringify(body);
  }

  private tmpName(): string { return `${this.file}.${process.pid}.${++this.seq}.tmp`; }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(`cannot read ${this.file}: ${(err as Error).message}`);
      return;
    }
    try {
      const parsed = JSON.parse(text) as Partial<LastGoodFile>;
      if (!parsed || typeof parsed.items !== 'object' || parsed.items === null) throw new Error('no "items" object');
      for (const [k, v] of Object.entries(parsed.items)) if (typeof v === 'number' && Number.isFinite(v)) this.items.set(k, v);
    } catch (err) {
      // a damaged file costs one backfill, never the poller: start empty and say so
      this.fail(`ignoring damaged ${this.file}: ${(err as Error).message}`);
    }
  }

  private fail(m: string): void {
    if (m === this.lastError) return;
    this.lastError = m;
    this.onError?.(m);
  }
}
