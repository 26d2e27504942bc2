// The SQLite engine under the queue: which one auto picks, what happens when none can run, and that both engines'
// errors carry the SQLITE_* codes the queue relies on. This file runs on Node 20 (better-sqlite3) and, from
// test/e2e/store-forward-engines.test.ts, on Node 22 with GENIX_SQLITE_ENGINE=node:sqlite.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { openDatabase, openQueue, NoSqliteEngineError, resolveChoice, StoreForwardBuffer } from '../../nodes/lib/store-forward';
import { setEngineModules } from '../../nodes/lib/store-forward/engine';
import { sqliteCodeName } from '../../nodes/lib/store-forward/engine-node';

const [major, minor] = process.versions.node.split('.').map(Number);
/** node:sqlite needs no flag from Node.js 22.13 on */
const runtimeHasNodeSqlite = major > 22 || (major === 22 && minor >= 13);
const forced = process.env.GENIX_SQLITE_ENGINE;

describe('store-forward SQLite engine', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-engine-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it(`the queue runs on the engine in force (${forced ? `GENIX_SQLITE_ENGINE=${forced}` : 'auto'})`, () => {
    const { queue } = openQueue({ path: path.join(dir, 'e.sqlite'), owner: 'a' });
    try {
      // this checkout's node_modules holds better-sqlite3 built for Node 20; a Node 22 run must name node:sqlite
      const expected = forced || (major === 20 ? 'better-sqlite3' : 'node:sqlite');
      assert.strictEqual(queue.engine, expected);
    } finally {
      queue.close();
    }
  });

  it('an unknown engine name is refused with the names that work', () => {
    assert.throws(() => resolveChoice('sqlite4'), (err: any) => err instanceof NoSqliteEngineError && /unknown SQLite engine "sqlite4".*auto, better-sqlite3, node:sqlite/.test(err.message));
    assert.throws(() => openQueue({ path: path.join(dir, 'x.sqlite'), owner: 'a', engine: 'sqlite4' as any }), NoSqliteEngineError);
  });

  it('node:sqlite asked for where the runtime has none: a clear error naming what to do', function () {
    if (runtimeHasNodeSqlite) {
      const { queue } = openQueue({ path: path.join(dir, 'n.sqlite'), owner: 'a', engine: 'node:sqlite' });
      assert.strictEqual(queue.engine, 'node:sqlite');
      queue.close();
      return;
    }
    assert.throws(() => openQueue({ path: path.join(dir, 'n.sqlite'), owner: 'a', engine: 'node:sqlite' }),
      (err: any) => err instanceof NoSqliteEngineError && /SQLite engine node:sqlite is not available \(node:sqlite: .+\): run Node.js >= 22\.13, or install better-sqlite3/.test(err.message));
  });

  describe('with neither engine loadable', () => {
    let restore: () => void;
    beforeEach(() => {
      restore = setEngineModules({ 'better-sqlite3': 'genix-missing-better-sqlite3', 'node:sqlite': 'node:genix-missing-sqlite' });
      // auto, not the engine a run forces
      delete process.env.GENIX_SQLITE_ENGINE;
    });
    afterEach(() => {
      restore();
      if (forced !== undefined) process.env.GENIX_SQLITE_ENGINE = forced;
    });

    it('auto fails with "no SQLite engine" and what to install, before any file or folder is made', () => {
      const file = path.join(dir, 'sub', 'none.sqlite');
      assert.throws(() => openQueue({ path: file, owner: 'a' }), (err: any) => err instanceof NoSqliteEngineError
        && err.message.startsWith('no SQLite engine: install better-sqlite3 (needs a compiler or a prebuilt binary) or run Node.js >= 22.13')
        && /better-sqlite3: Cannot find module 'genix-missing-better-sqlite3'/.test(err.message));
      assert.strictEqual(fs.existsSync(path.join(dir, 'sub')), false);
    });

    it('the buffer constructor throws the same error (the node turns it into its status)', () => {
      assert.throws(() => new StoreForwardBuffer({ path: path.join(dir, 'b.sqlite'), owner: 'b' }, {}, { forward: () => undefined }), NoSqliteEngineError);
    });
  });

  describe('errors carry the SQLITE_* codes the queue relies on', () => {
    it('result code names as better-sqlite3 spells them', () => {
      // numbers from sqlite3.h: extended = primary | n << 8
      assert.strictEqual(sqliteCodeName(13), 'SQLITE_FULL');
      assert.strictEqual(sqliteCodeName(5), 'SQLITE_BUSY');
      assert.strictEqual(sqliteCodeName(11), 'SQLITE_CORRUPT');
      assert.strictEqual(sqliteCodeName(26), 'SQLITE_NOTADB');
      assert.strictEqual(sqliteCodeName(778), 'SQLITE_IOERR_WRITE');
      assert.strictEqual(sqliteCodeName(266), 'SQLITE_IOERR_READ');
      assert.strictEqual(sqliteCodeName(1555), 'SQLITE_CONSTRAINT_PRIMARYKEY');
    });

    it('a file that is not a database: SQLITE_NOTADB from the engine in force', () => {
      const file = path.join(dir, 'junk.sqlite');
      fs.writeFileSync(file, 'this is not a database'.repeat(500));
      const db = openDatabase(file);
      try {
        assert.throws(() => db.exec('SELECT * FROM sqlite_master'), (err: any) => err.code === 'SQLITE_NOTADB');
      } finally {
        db.close();
      }
    });

    it('a file held by another connection: SQLITE_BUSY, and the queue says it is in use', () => {
      const file = path.join(dir, 'busy.sqlite');
      const { queue } = openQueue({ path: file, owner: 'a' });
      const other = openDatabase(file, { timeoutMs: 0 });
      try {
        assert.throws(() => other.prepare('SELECT count(*) FROM messages').get(), (err: any) => err.code === 'SQLITE_BUSY');
      } finally {
        other.close();
        queue.close();
      }
    });

    it('a duplicate key: a constraint code; the transaction rolls back as a whole', () => {
      const db = openDatabase(path.join(dir, 't.sqlite'));
      try {
        db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
        const ins = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
        assert.throws(() => db.transaction(() => { ins.run(1, Buffer.from([1])); ins.run(1, Buffer.from([2])); }), (err: any) => /^SQLITE_CONSTRAINT/.test(err.code));
        assert.deepStrictEqual(db.prepare('SELECT count(*) AS n FROM t').get(), { n: 0 });
        db.transaction(() => ins.run(2, Buffer.from([7, 8])));
        const row = db.prepare('SELECT id, v FROM t', { raw: true }).all()[0] as unknown[];
        assert.ok(Buffer.isBuffer(row[1]), 'blobs come back as Buffers');
        assert.deepStrictEqual(row, [2, Buffer.from([7, 8])]);
      } finally {
        db.close();
      }
    });
  });
});
