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
    if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.flushMs);
      this.timer.unref?.();
    }
  }

  /** Writes now when something changed (synchronous: also usable on close). */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const body: LastGoodFile = { version: 1, items: Object.fromEntries(this.items) };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, JSON.stringify(body));
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
    this.flush();
    this.closed = true;
  }

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
