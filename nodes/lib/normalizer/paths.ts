// Payload paths ("data.readings[0].v"), compiled once at deploy into segment arrays.

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
export const MAX_PATH_SEGMENTS = 32;

export type CompiledPath = ReadonlyArray<string | number>;

const hasOwn = Object.prototype.hasOwnProperty;

/** Compiles "a.b[2]['c.d']" into ["a","b",2,"c.d"]; a leading "msg.payload." / "payload." is dropped. Throws on bad paths. */
export function compilePath(path: string): CompiledPath {
  let p = path.trim();
  if (p.startsWith('msg.')) p = p.slice(4);
  if (p === 'payload') return [];
  if (p.startsWith('payload.') || p.startsWith('payload[')) p = p.slice(p[7] === '.' ? 8 : 7);
  if (p === '') throw new Error('empty path');
  const out: Array<string | number> = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      if (i === 0 || i === p.length - 1 || p[i + 1] === '.' || p[i + 1] === '[') throw new Error(`bad path "${path}"`);
      i++;
      continue;
    }
    if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) throw new Error(`bad path "${path}": missing ]`);
      const inner = p.slice(i + 1, end).trim();
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^(['"]).*\1$/.test(inner) && inner.length >= 2) out.push(inner.slice(1, -1));
      else throw new Error(`bad path "${path}": [${inner}]`);
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < p.length && p[j] !== '.' && p[j] !== '[') j++;
    out.push(p.slice(i, j));
    i = j;
  }
  for (const s of out) {
    if (typeof s === 'string' && FORBIDDEN_KEYS.has(s)) throw new Error(`path "${path}" uses the forbidden key "${s}"`);
  }
  if (out.length > MAX_PATH_SEGMENTS) throw new Error(`path "${path}" is deeper than ${MAX_PATH_SEGMENTS}`);
  return out;
}

/** Follows a compiled path through own properties only; undefined when any step is missing. */
export function getPath(root: unknown, path: CompiledPath): unknown {
  let cur: any = root;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const seg = path[i];
    if (!hasOwn.call(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Depth of a value, counted up to limit + 1 without recursion (so a hostile depth cannot blow the stack). */
export function depthExceeds(root: unknown, limit: number, nodeBudget = 100000): boolean {
  if (root === null || typeof root !== 'object') return false;
  const stack: Array<[unknown, number]> = [[root, 1]];
  let seen = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > limit) return true;
    if (++seen > nodeBudget) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (v[i] !== null && typeof v[i] === 'object') stack.push([v[i], d + 1]);
    } else {
      for (const k of Object.keys(v as object)) {
        const c = (v as any)[k];
        if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
      }
    }
  }
  return false;
}
