// Glob matching on sensorId ('*' any run, '?' one character), compiled once per rule.

export type Matcher = (sensorId: string) => boolean;

/** Compiles a glob into the cheapest test that decides it: exact, prefix, suffix, any, or a RegExp. */
export function compileGlob(glob: string): Matcher {
  if (glob === '*') return () => true;
  const hasQ = glob.includes('?');
  const stars = glob.split('*').length - 1;
  if (!hasQ && stars === 0) return (id) => id === glob;
  if (!hasQ && stars === 1 && glob.endsWith('*')) {
    const prefix = glob.slice(0, -1);
    return (id) => id.startsWith(prefix);
  }
  if (!hasQ && stars === 1 && glob.startsWith('*')) {
    const suffix = glob.slice(1);
    return (id) => id.endsWith(suffix);
  }
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`, 's');
  return (id) => re.test(id);
}
