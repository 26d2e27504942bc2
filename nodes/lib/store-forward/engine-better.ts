// better-sqlite3 behind the engine interface. Loaded lazily: it is an optional dependency whose native addon may
// be missing (no compiler, no prebuilt binary) or built for another Node.js.
import { probeSqliteVersion, type OpenOptions, type SqlDatabase, type SqlEngine, type SqlStatement } from './engine';

/** Loads better-sqlite3 from `mod` and opens an in-memory database, which loads (and so proves) its native addon. */
export function betterSqlite3Engine(mod: string): SqlEngine {
  const Database = require(mod);
  const sqliteVersion = probeSqliteVersion(() => new Database(':memory:'));
  return {
    name: 'better-sqlite3',
    sqliteVersion,
    open(file: string, opts: OpenOptions = {}): SqlDatabase {
      const db = new Database(file, {
        timeout: opts.timeoutMs ?? 0,
        fileMustExist: !!opts.fileMustExist,
        readonly: !!opts.readonly,
      });
      return {
        engine: 'better-sqlite3',
        prepare(sql: string, o?: { raw?: boolean }): SqlStatement {
          const st = db.prepare(sql);
          // a reading statement only: raw() refuses statements that return no data
          if (o?.raw) st.raw(true);
          return st;
        },
        exec(sql: string): void {
          db.exec(sql);
        },
        pragma(text: string, o?: { simple?: boolean }): unknown {
          return db.pragma(text, { simple: !!o?.simple });
        },
        transaction<T>(fn: () => T): T {
          return db.transaction(fn)();
        },
        close(): void {
          db.close();
        },
      };
    },
  };
}
