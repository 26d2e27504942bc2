// The durable SQLite queue: one row per stored message, rowid order = FIFO. No Node-RED here.
import fs from 'fs';
import path from 'path';
import { EngineChoice, EngineName, loadEngine, SqlDatabase, SqlEngine, SqlStatement } from './engine';
import { carryOver } from './recover';
import { canonical, CorruptFileError, freeBytes, isCorrupt, moveAside, StoreInUseError } from './files';

export * from './files';

export type Synchronous = 'FULL' | 'NORMAL';

export interface QueueRow {
  id: number;
  /** accepted at, epoch ms */
  ts: number;
  topic: string | null;
  payload: string | Buffer | null;
  extra: string | null;
  size: number;
  attempts: number;
}

/** A row for forwarding, as an array (no object per row): id, topic, payload, extra, attempts. */
export type RawRow = [number, string | null, string | Buffer | null, string | null, number];

export interface DeadLetterRow extends QueueRow {
  error: string | null;
  deadAt: number;
}

export interface Removed {
  count: number;
  bytes: number;
  /** for prefix deletes: every row up to this id is gone */
  through?: number;
}

export interface QueueOptions {
  path: string;
  /** who opens it (the node id): a second owner of the same file in this process is refused */
  owner: string;
  synchronous?: Synchronous;
  /** the SQLite engine: auto (default: better-sqlite3 if it loads, else node:sqlite), one of them, or a loaded one */
  engine?: EngineChoice | SqlEngine;
}

export interface OpenResult {
  queue: SqliteQueue;
  /** set when a corrupt file was found: where it was moved */
  movedAside?: string;
  corruptReason?: string;
  /** rows copied from the corrupt file into the fresh one */
  carried?: number;
  /** rows the corrupt file held (by its own count) that could not be copied; null when unknown */
  lost?: number | null;
}

const openPaths = new Map<string, string>();

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT, payload, extra TEXT, size INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT, payload, extra TEXT, size INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT, dead_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
`;

/** Opens (or creates) the queue file; a corrupt file is moved aside and a fresh one started. */
export function openQueue(opts: QueueOptions): OpenResult {
  const file = canonical(opts.path);
  const owner = openPaths.get(file);
  if (owner !== undefined && owner !== opts.owner) {
    throw new StoreInUseError(`${file} is already used by store-forward node ${owner}; give each buffer its own dbPath`);
  }
  // before any file is touched: without an engine the node says so and nothing else changes
  const engine = typeof opts.engine === 'object' ? opts.engine : loadEngine(opts.engine);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let reason: string;
  try {
    const q = new SqliteQueue(file, opts, true, engine);
    openPaths.set(file, opts.owner);
    return { queue: q };
  } catch (err: any) {
    if (!isCorrupt(err)) throw err;
    reason = String(err.message || err);
  }
  const movedAside = moveAside(file);
  const q = new SqliteQueue(file, opts, false, engine);
  openPaths.set(file, opts.owner);
  const { carried, lost } = carryOver(movedAside, q);
  return { queue: q, movedAside, corruptReason: reason, carried, lost };
}

export class SqliteQueue {
  readonly path: string;
  readonly owner: string;
  /** rows stored (not counting dead letters) */
  count = 0;
  bytes = 0;
  deadLetters = 0;
  /** highest id ever handed out; ids never repeat, so a late ack cannot hit a newer row */
  lastId = 0;
  /** which SQLite engine holds the file */
  readonly engine: EngineName;
  /** the engine itself (a quarantined file is read with the same one) */
  readonly sqlEngine: SqlEngine;
  private db: SqlDatabase;
  private closed = false;
  private st!: Record<string, SqlStatement>;

  constructor(file: string, opts: QueueOptions, check = false, engine: SqlEngine = typeof opts.engine === 'object' ? opts.engine : loadEngine(opts.engine)) {
    this.path = file;
    this.owner = opts.owner;
    this.engine = engine.name;
    this.sqlEngine = engine;
    // timeout 0: a file locked by another process fails at once instead of hanging the deploy
    const db = engine.open(file, { timeoutMs: 0 });
    this.db = db;
    try {
      // EXCLUSIVE: the OS lock is held while open, so a second process cannot share the file (released on kill -9)
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('journal_size_limit = 33554432');
      this.keepHeadroom();
      // rows are read and deleted in id order, so a small page cache serves; better-sqlite3's 16 MB default only adds RSS
      db.pragma('cache_size = -4000');
      if (check) {
        // a damaged file is found here, at deploy, rather than by a read error in the middle of a replay
        const res = db.pragma('quick_check(20)') as Array<Record<string, string>>;
        const problems = res.map((r) => Object.values(r)[0]).filter((v) => v !== 'ok');
        if (problems.length) throw new CorruptFileError(`PRAGMA quick_check: ${problems.slice(0, 3).join('; ')}`);
      }
      db.exec(SCHEMA);
      this.prepare();
      const c = this.st.stats.get() as { n: number; b: number; m: number | null };
      this.count = c.n;
      this.bytes = c.b;
      const d = this.st.deadStats.get() as { n: number; m: number | null };
      this.deadLetters = d.n;
      const meta = this.st.getMeta.get('lastId') as { value: number } | undefined;
      this.lastId = Math.max(c.m ?? 0, d.m ?? 0, meta ? Number(meta.value) : 0);
    } catch (err: any) {
      try { db.close(); } catch { /* already failing */ }
      if (err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
        throw new StoreInUseError(`${file} is locked by another process (another Node-RED or buffer uses it); give each buffer its own dbPath`);
      }
      throw err;
    }
  }

  /**
   * On a small or nearly full filesystem: keep the write-ahead log small and stop the database short of the last
   * free megabytes, so that when it is "full" the log can still take acknowledgements (deletes) and checkpoint them.
   * Without this a full disk is a dead end: not even the delete of a delivered row can be written.
   */
  keepHeadroom(): void {
    const free = freeBytes(path.dirname(this.path));
    if (free > 256 * 1048576) return;
    const db = this.db;
    db.pragma('journal_size_limit = 1048576');
    db.pragma('wal_autocheckpoint = 100');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pages = Number(db.pragma('page_count', { simple: true }));
    let wal = 0;
    try { wal = fs.statSync(`${this.path}-wal`).size; } catch { /* none */ }
    const reserve = Math.max(1536 * 1024, Math.min(64 * 1048576, free / 4));
    const limit = Math.floor((pages * pageSize + wal + free - reserve) / pageSize);
    db.pragma(`max_page_count = ${Math.max(pages, limit)}`);
  }

  private prepare(): void {
    const db = this.db;
    const cols = 'id, ts, topic, payload, extra, size, attempts';
    this.st = {
      stats: db.prepare('SELECT count(*) AS n, total(size) AS b, max(id) AS m FROM messages'),
      deadStats: db.prepare('SELECT count(*) AS n, max(id) AS m FROM dead_letters'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      insert: db.prepare('INSERT INTO messages (id, ts, topic, payload, extra, size) VALUES (?, ?, ?, ?, ?, ?)'),
      sizeRange: db.prepare('SELECT count(*) AS n, total(size) AS b FROM messages WHERE id >= ? AND id <= ?'),
      deleteRange: db.prepare('DELETE FROM messages WHERE id >= ? AND id <= ?'),
      readAfter: db.prepare(`SELECT ${cols} FROM messages WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`),
      readRaw: db.prepare('SELECT id, topic, payload, extra, attempts FROM messages WHERE id > ? AND id <= ? ORDER BY id LIMIT ?', { raw: true }),
      oldestPage: db.prepare('SELECT id, ts, size FROM messages WHERE id > ? ORDER BY id LIMIT ?'),
      oldestTs: db.prepare('SELECT ts FROM messages ORDER BY id LIMIT 1'),
      markAttempt: db.prepare('UPDATE messages SET attempts = attempts + 1 WHERE id >= ? AND id <= ?'),
      toDead: db.prepare(`INSERT OR REPLACE INTO dead_letters (${cols}, error, dead_at) SELECT ${cols}, ?, ? FROM messages WHERE id >= ? AND id <= ?`),
      readDead: db.prepare(`SELECT ${cols}, error, dead_at AS deadAt FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?`),
      deadPage: db.prepare(`SELECT ${cols} FROM dead_letters ORDER BY id LIMIT ?`),
      deleteDead: db.prepare('DELETE FROM dead_letters WHERE id >= ? AND id <= ?'),
      purgeDead: db.prepare('DELETE FROM dead_letters'),
    };
  }

  /** Runs fn in one transaction; the in-memory counters roll back with it. */
  transaction<T>(fn: () => T): T {
    const saved = [this.count, this.bytes, this.deadLetters, this.lastId];
    try {
      return this.db.transaction(fn);
    } catch (err) {
      [this.count, this.bytes, this.deadLetters, this.lastId] = saved;
      throw err;
    }
  }

  /** Stores one message with the next id; call inside transaction() and persistLastId() once per commit. */
  insert(ts: number, topic: string | null, payload: string | Buffer | null, extra: string | null, size: number): number {
    const id = ++this.lastId;
    this.st.insert.run(id, ts, topic, payload, extra, size);
    this.count++;
    this.bytes += size;
    return id;
  }

  /** Records the last id and the row count (what a corrupt file is known to have held) once per commit. */
  persistLastId(lastTs?: number): void {
    this.st.setMeta.run('lastId', this.lastId);
    if (lastTs !== undefined) this.st.setMeta.run('lastTs', lastTs);
  }

  persistCount(): void {
    this.st.setMeta.run('count', this.count);
  }

  /** Accept time of the newest row ever stored (kept when it is deleted), or null. */
  lastTs(): number | null {
    const m = this.st.getMeta.get('lastTs') as { value: number } | undefined;
    return m ? Number(m.value) : null;
  }

  /** Deletes rows lo..hi (missing ones are skipped); returns what was really removed. */
  deleteRange(lo: number, hi: number): Removed {
    // one aggregate row instead of a row per deleted message keeps the drain allocation-light
    const { n, b } = this.st.sizeRange.get(lo, hi) as { n: number; b: number };
    if (n) this.st.deleteRange.run(lo, hi);
    this.count -= n;
    this.bytes -= b;
    return { count: n, bytes: b };
  }

  readAfter(afterId: number, maxId: number, limit: number): QueueRow[] {
    return this.st.readAfter.all(afterId, maxId, limit) as QueueRow[];
  }

  /** Like readAfter, but rows as arrays with only what forwarding needs. */
  readRaw(afterId: number, maxId: number, limit: number): RawRow[] {
    return this.st.readRaw.all(afterId, maxId, limit) as RawRow[];
  }

  /** Deletes the oldest rows until at least minRows rows and minBytes bytes are gone (or none are left). */
  dropOldest(minRows: number, minBytes: number): Removed {
    let count = 0;
    let bytes = 0;
    let after = 0;
    while ((count < minRows || bytes < minBytes) && this.count > 0) {
      const page = this.st.oldestPage.all(after, 1000) as Array<{ id: number; size: number }>;
      if (!page.length) break;
      let last = after;
      for (const r of page) {
        last = r.id;
        count++;
        bytes += r.size;
        if (count >= minRows && bytes >= minBytes) break;
      }
      this.deleteRange(after + 1, last);
      after = last;
    }
    return { count, bytes, through: after };
  }

  /** Deletes rows accepted before cutoff, oldest first, at most limit of them. */
  expireBefore(cutoff: number, limit = 10000): Removed {
    const page = this.st.oldestPage.all(0, limit) as Array<{ id: number; ts: number }>;
    let last = 0;
    // accept times grow with the id, so the expired rows are a prefix
    for (const r of page) {
      if (r.ts >= cutoff) break;
      last = r.id;
    }
    return last ? { ...this.deleteRange(0, last), through: last } : { count: 0, bytes: 0 };
  }

  oldestTs(): number | null {
    const r = this.st.oldestTs.get() as { ts: number } | undefined;
    return r ? r.ts : null;
  }

  markAttempt(lo: number, hi: number): void {
    this.st.markAttempt.run(lo, hi);
  }

  /** Moves rows lo..hi to the dead-letter table with the reason. */
  deadLetter(lo: number, hi: number, error: string, now: number): Removed {
    const moved = Number(this.st.toDead.run(error, now, lo, hi).changes);
    this.deadLetters += moved;
    return this.deleteRange(lo, hi);
  }

  readDeadLetters(afterId = 0, limit = 100): DeadLetterRow[] {
    return this.st.readDead.all(afterId, limit) as DeadLetterRow[];
  }

  /** Puts up to limit dead letters back at the end of the queue (new ids); returns how many. */
  requeueDeadLetters(limit = 1000): number {
    return this.transaction(() => {
      const rows = this.st.deadPage.all(limit) as QueueRow[];
      for (const r of rows) this.insert(r.ts, r.topic, r.payload, r.extra, r.size);
      if (rows.length) {
        this.st.deleteDead.run(rows[0].id, rows[rows.length - 1].id);
        this.deadLetters -= rows.length;
        this.persistLastId();
      }
      return rows.length;
    });
  }

  purgeDeadLetters(): number {
    const n = Number(this.st.purgeDead.run().changes);
    this.deadLetters = 0;
    return n;
  }

  /** Bytes on disk: the database plus its write-ahead log. */
  fileBytes(): number {
    let total = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try { total += fs.statSync(f).size; } catch { /* not there */ }
    }
    return total;
  }

  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } finally {
      if (openPaths.get(this.path) === this.owner) openPaths.delete(this.path);
    }
  }
}
