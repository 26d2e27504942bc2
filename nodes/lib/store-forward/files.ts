// Files and SQLite errors of the store-and-forward queue: what an error means, where a bad file goes.
import fs from 'fs';
import path from 'path';

/** The file is already used by another buffer (in this process or another one). */
export class StoreInUseError extends Error {}

/** ENOSPC (or the page limit kept below it). I/O errors are not "full": they are held in memory and retried. */
export function isDiskFull(err: any): boolean {
  return !!err && (err.code === 'SQLITE_FULL' || /database or disk is full/.test(String(err.message)));
}

export function isCorrupt(err: any): boolean {
  return !!err && (err instanceof CorruptFileError || /^SQLITE_(CORRUPT|NOTADB)/.test(String(err.code)));
}

/** PRAGMA quick_check found damage at open. */
export class CorruptFileError extends Error {
  code = 'SQLITE_CORRUPT';
}

/** Free bytes on the filesystem holding dir (Infinity when unknown). */
export function freeBytes(dir: string): number {
  try {
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize;
  } catch {
    return Infinity;
  }
}

export function canonical(p: string): string {
  const abs = path.resolve(p);
  try {
    return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs;
  }
}

/** Renames a (closed) database file and its journals to `<file>.corrupt-<timestamp>`; returns the new name. */
export function moveAside(file: string): string {
  const movedAside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, movedAside);
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, movedAside + suffix);
  }
  return movedAside;
}
