// Carrying the readable rows of a quarantined (corrupt) database file over into a fresh one.
import type { SqlDatabase, SqlStatement } from './engine';
import type { QueueRow, SqliteQueue } from './queue';

type Row = Omit<QueueRow, 'attempts'>;

/** The smallest id range worth bisecting into when a read fails. */
const MIN_SPAN = 64;

/**
 * Copies every row that can still be read from `oldFile` into `q` (new ids, same order).
 * lost = the old file's own row count (from its meta table) minus what was carried; null when that count is unreadable.
 */
export function carryOver(oldFile: string, q: SqliteQueue): { carried: number; lost: number | null } {
  let db: SqlDatabase;
  try {
    db = q.sqlEngine.open(oldFile, { fileMustExist: true, timeoutMs: 0 });
  } catch {
    return { carried: 0, lost: null };
  }
  let known: number | null = null;
  let carried = 0;
  try {
    known = tryGet(db, "SELECT value AS v FROM meta WHERE key = 'count'");
    const lastId = tryGet(db, "SELECT value AS v FROM meta WHERE key = 'lastId'") ?? tryGet(db, 'SELECT max(id) AS v FROM messages') ?? 0;
    let read: SqlStatement | null = null;
    try {
      read = db.prepare('SELECT id, ts, topic, payload, extra, size FROM messages WHERE id >= ? AND id <= ? ORDER BY id');
    } catch { /* no readable schema: nothing to carry */ }
    if (read) {
      const stmt = read;
      const copy = (rows: Row[]) => {
        if (!rows.length) return;
        q.transaction(() => {
          for (const r of rows) q.insert(r.ts, r.topic, r.payload, r.extra, r.size);
          q.persistLastId(rows[rows.length - 1].ts);
          q.persistCount();
        });
        carried += rows.length;
      };
      const walk = (lo: number, hi: number): void => {
        try {
          copy(stmt.all(lo, hi) as Row[]);
        } catch {
          if (hi - lo < MIN_SPAN) return;
          const mid = Math.floor((lo + hi) / 2);
          walk(lo, mid);
          walk(mid + 1, hi);
        }
      };
      const step = 4096;
      for (let lo = 1; lo <= lastId; lo += step) walk(lo, Math.min(lastId, lo + step - 1));
    }
  } finally {
    try { db.close(); } catch { /* already broken */ }
  }
  return { carried, lost: known === null ? null : Math.max(0, known - carried) };
}

function tryGet(db: SqlDatabase, sql: string): number | null {
  try {
    const r = db.prepare(sql).get() as { v: unknown } | undefined;
    const n = r ? Number(r.v) : NaN;
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
