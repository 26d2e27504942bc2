// Node's built-in node:sqlite (DatabaseSync, Node.js >= 22.13) behind the engine interface: blobs come back as
// Buffers, rows as plain objects (or arrays), and errors carry the SQLITE_* code better-sqlite3 would give.
import fs from 'fs';
import { probeSqliteVersion, type OpenOptions, type RunResult, type SqlDatabase, type SqlEngine, type SqlStatement } from './engine';

const PRIMARY: Record<number, string> = {
  1: 'ERROR', 2: 'INTERNAL', 3: 'PERM', 4: 'ABORT', 5: 'BUSY', 6: 'LOCKED', 7: 'NOMEM', 8: 'READONLY', 9: 'INTERRUPT',
  10: 'IOERR', 11: 'CORRUPT', 12: 'NOTFOUND', 13: 'FULL', 14: 'CANTOPEN', 15: 'PROTOCOL', 16: 'EMPTY', 17: 'SCHEMA',
  18: 'TOOBIG', 19: 'CONSTRAINT', 20: 'MISMATCH', 21: 'MISUSE', 22: 'NOLFS', 23: 'AUTH', 24: 'FORMAT', 25: 'RANGE',
  26: 'NOTADB', 27: 'NOTICE', 28: 'WARNING',
};

/** Extended result codes (primary | n << 8) by primary code, from sqlite3.h, for the kinds the queue tells apart. */
const EXTENDED: Record<number, string[]> = {
  5: ['', 'RECOVERY', 'SNAPSHOT', 'TIMEOUT'],
  6: ['', 'SHAREDCACHE', 'VTAB'],
  8: ['', 'RECOVERY', 'CANTLOCK', 'ROLLBACK', 'DBMOVED', 'CANTINIT', 'DIRECTORY'],
  10: ['', 'READ', 'SHORT_READ', 'WRITE', 'FSYNC', 'DIR_FSYNC', 'TRUNCATE', 'FSTAT', 'UNLOCK', 'RDLOCK', 'DELETE',
    'BLOCKED', 'NOMEM', 'ACCESS', 'CHECKRESERVEDLOCK', 'LOCK', 'CLOSE', 'DIR_CLOSE', 'SHMOPEN', 'SHMSIZE', 'SHMLOCK',
    'SHMMAP', 'SEEK', 'DELETE_NOENT', 'MMAP', 'GETTEMPPATH', 'CONVPATH', 'VNODE', 'AUTH', 'BEGIN_ATOMIC',
    'COMMIT_ATOMIC', 'ROLLBACK_ATOMIC', 'DATA', 'CORRUPTFS'],
  11: ['', 'VTAB', 'SEQUENCE', 'INDEX'],
  14: ['', 'NOTEMPDIR', 'ISDIR', 'FULLPATH', 'CONVPATH', 'DIRTYWAL', 'SYMLINK'],
  19: ['', 'CHECK', 'COMMITHOOK', 'FOREIGNKEY', 'FUNCTION', 'NOTNULL', 'PRIMARYKEY', 'TRIGGER', 'UNIQUE', 'VTAB',
    'ROWID', 'PINNED', 'DATATYPE'],
};

/** The better-sqlite3 style name of an SQLite result code, e.g. 13 -> SQLITE_FULL, 778 -> SQLITE_IOERR_WRITE. */
export function sqliteCodeName(errcode: number): string {
  const primary = errcode & 0xff;
  const base = PRIMARY[primary];
  if (!base) return `SQLITE_UNKNOWN_${errcode}`;
  const ext = EXTENDED[primary]?.[errcode >> 8];
  return ext ? `SQLITE_${base}_${ext}` : `SQLITE_${base}`;
}

/** node:sqlite throws code ERR_SQLITE_ERROR with the SQLite code in errcode; give it the SQLite name as code. */
export function mapSqliteError(err: any): any {
  if (err && typeof err === 'object' && typeof err.errcode === 'number') {
    try {
      Object.defineProperty(err, 'code', { value: sqliteCodeName(err.errcode), configurable: true, writable: true, enumerable: true });
    } catch { /* frozen: leave it */ }
  }
  return err;
}

function fixValue(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

/** A plain object (node:sqlite gives null-prototype rows) with blobs as Buffers. */
function fixRow(row: any): any {
  if (!row) return row;
  const out: any = {};
  for (const k in row) out[k] = fixValue(row[k]);
  return out;
}

function fixArray(row: any[]): any[] {
  for (let i = 0; i < row.length; i++) row[i] = fixValue(row[i]);
  return row;
}

class NodeStatement implements SqlStatement {
  private readonly fix: (row: any) => any;

  constructor(private readonly st: any, raw: boolean) {
    if (raw && typeof st.setReturnArrays === 'function') {
      st.setReturnArrays(true);
      this.fix = fixArray;
    } else if (raw) {
      // before Node 22.16 there is no setReturnArrays: the object's values are in column order
      this.fix = (row: any) => fixArray(Object.values(row));
    } else {
      this.fix = fixRow;
    }
  }

  run(...params: unknown[]): RunResult {
    try {
      return this.st.run(...params);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  get(...params: unknown[]): unknown {
    try {
      const row = this.st.get(...params);
      return row === undefined ? undefined : this.fix(row);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  all(...params: unknown[]): unknown[] {
    try {
      const rows = this.st.all(...params) as any[];
      for (let i = 0; i < rows.length; i++) rows[i] = this.fix(rows[i]);
      return rows;
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  *iterate(...params: unknown[]): IterableIterator<unknown> {
    // iterate() came later than all(); where it is missing, all() gives the same rows
    const it: Iterable<any> = typeof this.st.iterate === 'function' ? this.st.iterate(...params) : this.st.all(...params);
    try {
      for (const row of it) yield this.fix(row);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }
}

class NodeDatabase implements SqlDatabase {
  readonly engine = 'node:sqlite' as const;
  private depth = 0;

  constructor(private readonly db: any) {}

  prepare(sql: string, opts?: { raw?: boolean }): SqlStatement {
    try {
      return new NodeStatement(this.db.prepare(sql), !!opts?.raw);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  pragma(text: string, opts?: { simple?: boolean }): unknown {
    const st = this.prepare(`PRAGMA ${text}`);
    if (!opts?.simple) return st.all();
    const row = st.get() as Record<string, unknown> | undefined;
    return row ? Object.values(row)[0] : undefined;
  }

  transaction<T>(fn: () => T): T {
    const nested = this.depth > 0;
    const sp = `genix_sp${this.depth}`;
    this.exec(nested ? `SAVEPOINT ${sp}` : 'BEGIN');
    this.depth++;
    try {
      const result = fn();
      this.exec(nested ? `RELEASE ${sp}` : 'COMMIT');
      return result;
    } catch (err) {
      // SQLite may already have rolled back (a full disk, an I/O error): then there is nothing left to undo
      try {
        if (nested) this.db.exec(`ROLLBACK TO ${sp}; RELEASE ${sp}`);
        else this.db.exec('ROLLBACK');
      } catch { /* no transaction left */ }
      throw err;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch (err) {
      throw mapSqliteError(err);
    }
  }
}

/** Loads node:sqlite from `mod` (it is missing before Node.js 22.13, or behind a flag). */
export function nodeSqliteEngine(mod: string): SqlEngine {
  const { DatabaseSync } = require(mod);
  if (typeof DatabaseSync !== 'function') throw new Error(`${mod} has no DatabaseSync`);
  const sqliteVersion = probeSqliteVersion(() => new DatabaseSync(':memory:'));
  return {
    name: 'node:sqlite',
    sqliteVersion,
    open(file: string, opts: OpenOptions = {}): SqlDatabase {
      if (opts.fileMustExist && !fs.existsSync(file)) {
        throw Object.assign(new Error(`unable to open database file: ${file} does not exist`), { code: 'SQLITE_CANTOPEN' });
      }
      try {
        return new NodeDatabase(new DatabaseSync(file, { readOnly: !!opts.readonly, timeout: opts.timeoutMs ?? 0 }));
      } catch (err) {
        throw mapSqliteError(err);
      }
    },
  };
}
