// Reading stored rows for one send: the ids that travel together and their JSON texts, or one row alone.
import type { RawRow, SqliteQueue } from './queue';

/** a row that failed this many times travels alone, so one bad reading cannot hold a whole batch back */
export const SPLIT_AFTER = 2;

export interface Collected {
  cursor: number;
  ids: number[];
  /** each row's JSON, an array's elements without the brackets (empty arrays leave nothing) */
  parts: string[];
  /** the rows' common topic; null when they differ */
  topic: string | null | undefined;
  attempts: number;
  first: RawRow | null;
  alone: RawRow | null;
}

/** A stored row's readings as JSON text to join into a batch array, or null when it must travel alone. */
export function batchText(r: RawRow): string | null {
  const p = r[2];
  if (r[3] !== null || typeof p !== 'string') return null;
  const c = p.charCodeAt(0);
  if (c === 123) return p; // '{'
  if (c === 91) return p.length > 2 ? p.slice(1, -1) : ''; // '[': its elements join the flat batch
  return null;
}

/**
 * Reads up to `want` stored rows after `cursor` (up to maxId) that can travel together, skipping the id ranges
 * in `busy` (in flight). The batch payload is built from the stored JSON texts with one parse, so no object per
 * row is made on the way.
 */
export function collect(q: SqliteQueue, cursor: number, maxId: number, want: number, busy: Array<[number, number]>,
  splitIds: Set<number>, splitAfter: number): Collected {
  const c: Collected = { cursor, ids: [], parts: [], topic: undefined, attempts: 0, first: null, alone: null };
  let mixed = false;
  let b = 0;
  const skip = busy.length ? 16 : 0;
  while (c.ids.length < want && c.cursor < maxId) {
    const limit = want - c.ids.length + skip;
    const page = q.readRaw(c.cursor, maxId, limit);
    if (!page.length) {
      c.cursor = maxId;
      break;
    }
    for (const r of page) {
      const id = r[0];
      if (busy.length) {
        while (b < busy.length && busy[b][1] < id) b++;
        if (b < busy.length && busy[b][0] <= id) {
          c.cursor = id;
          continue;
        }
      }
      const text = r[4] >= splitAfter ? null : batchText(r);
      if (text === null || (splitIds.size && splitIds.has(id))) {
        // sent on its own: first in line, or left for the next send
        if (!c.ids.length) {
          c.alone = r;
          c.cursor = id;
        }
        return c;
      }
      if (!c.ids.length) {
        c.first = r;
        c.topic = r[1];
      } else if (!mixed && r[1] !== c.topic) {
        mixed = true;
        c.topic = null;
      }
      c.ids.push(id);
      if (text) c.parts.push(text);
      if (r[4] > c.attempts) c.attempts = r[4];
      c.cursor = id;
      if (c.ids.length >= want) return c;
    }
    if (page.length < limit) {
      // fewer rows than asked for: nothing else is stored up to maxId
      c.cursor = maxId;
      break;
    }
  }
  return c;
}
