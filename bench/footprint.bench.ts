// Installed footprint: the npm tarball of this checkout (`npm pack`) installed into clean user directories as the
// palette manager does it, measured with `du` on node_modules. Three installs: Node 22 with no compiler
// (better-sqlite3 13 comes prebuilt), Node 22 with `--omit=optional` (store-and-forward on the built-in node:sqlite,
// the smallest), and Node 20 with a compiler (better-sqlite3 12 built from source). npm resolves the same ranges
// differently per Node.js (node-opcua-client and better-sqlite3 take their current releases only where the runtime
// supports them), so each row names what it got. A clean install of the same versions gives the same bytes: one
// install each (better-sqlite3 compiles for minutes).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { main, BenchResult } from './lib';
import { installNode, packTarball } from '../scripts/lib/runtimes';
import { cleanInstall, folderMb, installedVersion, noCompilerPath, npmEnv, which } from '../scripts/lib/install';

/** The largest installed packages, "name MB" each. */
function largest(userDir: string, n: number): string {
  const nm = path.join(userDir, 'node_modules');
  const dirs: string[] = [];
  for (const e of fs.readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) for (const s of fs.readdirSync(path.join(nm, e))) dirs.push(`${e}/${s}`);
    else dirs.push(e);
  }
  return dirs.map((d) => ({ d, mb: folderMb(path.join(nm, d)) })).sort((a, b) => b.mb - a.mb).slice(0, n).map((x) => `${x.d} ${x.mb.toFixed(1)}`).join(', ');
}

function row(name: string, target: string, r: ReturnType<typeof cleanInstall>, node: string): BenchResult {
  if (r.status !== 0) throw new Error(`${name}: npm install exited ${r.status}:\n${r.log.slice(-3000)}`);
  const built = fs.existsSync(path.join(r.userDir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
  const prebuilt = fs.existsSync(path.join(r.userDir, 'node_modules', 'better-sqlite3', 'prebuilds'));
  const bs = installedVersion(r.userDir, 'better-sqlite3');
  const sqlite = built ? `better-sqlite3 ${bs} built from source` : prebuilt ? `better-sqlite3 ${bs} prebuilt` : 'no better-sqlite3 (node:sqlite)';
  return {
    name, value: Math.round(r.mb * 10) / 10, unit: 'MB', target,
    compare: `Node ${node}, node-opcua-client ${installedVersion(r.userDir, 'node-opcua-client')}, ${sqlite}; installed in ${r.seconds.toFixed(0)} s; largest: ${largest(r.userDir, 5)}`,
  };
}

main(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-footprint-'));
  try {
    const { tarball } = packTarball(tmp);
    const node22 = installNode(22).node;
    const results: BenchResult[] = [];
    const noCc = npmEnv(noCompilerPath(tmp, node22));
    results.push(row('installed footprint: Node 22, no compiler (better-sqlite3 prebuilt)', '<= 75', cleanInstall(tmp, 'n22', node22, tarball, noCc), '22'));
    results.push(row('installed footprint: Node 22, --omit=optional (store-and-forward on node:sqlite)', '<= 50', cleanInstall(tmp, 'builtin', node22, tarball, noCc, ['--omit=optional']), '22'));
    if (!which('g++', process.env.PATH ?? '') || !which('make', process.env.PATH ?? '')) throw new Error('no compiler here for the install that builds better-sqlite3');
    const normal = cleanInstall(tmp, 'normal', process.execPath, tarball, npmEnv(`${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`));
    results.push(row('installed footprint: Node 20, compiler reachable (better-sqlite3 built from source)', '<= 75', normal, process.versions.node.split('.')[0]));
    return results;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
