// The SQLite engine under the queue, chosen at open: better-sqlite3 (an optional native module) where it loads,
// Node's built-in node:sqlite (Node.js >= 22.13) where the runtime has it. Both behind the same small interface,
// with errors carrying the same SQLITE_* codes, so nothing above this file knows which one runs.
import { betterSqlite3Engine } from './engine-better';
import { nodeSqliteEngine } from './engine-node';

export type EngineName = 'better-sqlite3' | 'node:sqlite';
export type EngineChoice = 'auto' | EngineName;
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'better-sqlite3', 'node:sqlite'];

export interface RunResult {
  changes: number | bigint;
}

export interface SqlStatement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

export interface SqlDatabase {
  readonly engine: EngineName;
  /** raw: rows as arrays of the column values instead of objects */
  prepare(sql: string, opts?: { raw?: boolean }): SqlStatement;
  exec(sql: string): void;
  /** `PRAGMA <text>`: all rows, or with simple the first column of the first row */
  pragma(text: string, opts?: { simple?: boolean }): unknown;
  /** Runs fn in one transaction (a savepoint when nested); rolls back when fn or the commit throws. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  /** busy timeout; 0 = a locked file fails at once */
  timeoutMs?: number;
  fileMustExist?: boolean;
  readonly?: boolean;
}

export interface SqlEngine {
  readonly name: EngineName;
  /** the SQLite library version it runs */
  readonly sqliteVersion: string;
  open(file: string, opts?: OpenOptions): SqlDatabase;
}

/** No engine could be loaded (or the one asked for cannot). The message says what to install or choose. */
/** Opens an in-memory database with a driver's constructor, which loads (and so proves) it; returns SQLite's version. */
export function probeSqliteVersion(open: () => { prepare(sql: string): { get(): any }; close(): void }): string {
  const probe = open();
  try {
    return String(probe.prepare('SELECT sqlite_version() AS v').get().v);
  } finally {
    probe.close();
  }
}

export class NoSqliteEngineError extends Error {
  code = 'GENIX_NO_SQLITE_ENGINE';
}

/** Which module each engine is loaded from; a test can point one at a module that does not exist. */
export type EngineModules = Record<EngineName, string>;
export const DEFAULT_ENGINE_MODULES: Readonly<EngineModules> = { 'better-sqlite3': 'better-sqlite3', 'node:sqlite': 'node:sqlite' };

export const NO_ENGINE_HINT = 'install better-sqlite3 (needs a compiler or a prebuilt binary) or run Node.js >= 22.13';

let modules: EngineModules = { ...DEFAULT_ENGINE_MODULES };
const loaded = new Map<string, SqlEngine | Error>();

/**
 * Sets the modules engines are loaded from (for tests of the "engine missing" cases); returns a function that
 * restores the previous ones.
 */
export function setEngineModules(next: Partial<EngineModules>): () => void {
  const before = modules;
  modules = { ...modules, ...next };
  return () => { modules = before; };
}

/** The choice in force: an explicit engine wins; auto (or nothing) defers to GENIX_SQLITE_ENGINE when it is set. */
export function resolveChoice(choice?: string): EngineChoice {
  const asked = choice === undefined || choice === null || String(choice).trim() === '' ? 'auto' : String(choice).trim();
  const env = (process.env.GENIX_SQLITE_ENGINE ?? '').trim();
  const c = asked === 'auto' && env ? env : asked;
  if (!(ENGINE_CHOICES as readonly string[]).includes(c)) {
    const from = c === asked ? 'engine' : 'GENIX_SQLITE_ENGINE';
    throw new NoSqliteEngineError(`unknown SQLite engine "${c}" (${from}); use one of ${ENGINE_CHOICES.join(', ')}`);
  }
  return c as EngineChoice;
}

function tryLoad(name: EngineName, mod: string): SqlEngine | Error {
  const key = `${name}\0${mod}`;
  let e = loaded.get(key);
  if (!e) {
    try {
      e = name === 'better-sqlite3' ? betterSqlite3Engine(mod) : nodeSqliteEngine(mod);
    } catch (err: any) {
      e = err instanceof Error ? err : new Error(String(err));
    }
    loaded.set(key, e);
  }
  return e;
}

function reason(err: Error): string {
  // the first line says it (a wrong-ABI native module adds a long stack of require paths)
  return String(err.message).split('\n')[0];
}

/** Loads the engine for `choice` (see resolveChoice); throws NoSqliteEngineError saying why none can run. */
export function loadEngine(choice?: string): SqlEngine {
  const c = resolveChoice(choice);
  const order: EngineName[] = c === 'auto' ? ['better-sqlite3', 'node:sqlite'] : [c];
  const failures: string[] = [];
  for (const name of order) {
    const e = tryLoad(name, modules[name]);
    if (!(e instanceof Error)) return e;
    failures.push(`${name}: ${reason(e)}`);
  }
  if (c === 'auto') throw new NoSqliteEngineError(`no SQLite engine: ${NO_ENGINE_HINT} (${failures.join('; ')})`);
  const fix = c === 'node:sqlite'
    ? 'run Node.js >= 22.13, or install better-sqlite3 and choose engine "auto"'
    : 'install better-sqlite3 (needs a compiler or a prebuilt binary), or choose engine "auto" on Node.js >= 22.13';
  throw new NoSqliteEngineError(`SQLite engine ${c} is not available (${failures[0]}): ${fix}`);
}

/** Which engines load here (for the bench and the tests): name -> null when it loads, else why not. */
export function engineAvailability(): Record<EngineName, string | null> {
  const out = {} as Record<EngineName, string | null>;
  for (const name of Object.keys(DEFAULT_ENGINE_MODULES) as EngineName[]) {
    const e = tryLoad(name, modules[name]);
    out[name] = e instanceof Error ? reason(e) : null;
  }
  return out;
}

/** Opens `file` with the chosen engine (tests and tools that look into a queue file use this too). */
export function openDatabase(file: string, opts: OpenOptions = {}, choice?: string): SqlDatabase {
  return loadEngine(choice).open(file, opts);
}
