// A clean install of the package's npm tarball into a fresh user directory, as the palette manager does it, and
// its footprint: shared by the install tests and the footprint bench. Also the PATH of a plant machine with no
// compiler (only a Node.js and a shell), on which better-sqlite3's native build must fail and be skipped.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

export const BUILD_TOOLS = ['gcc', 'g++', 'cc', 'c++', 'make', 'python3', 'python'];

/** Where `cmd` is on PATH (null when nowhere). */
export function which(cmd: string, pathVar: string): string | null {
  for (const d of pathVar.split(path.delimiter)) {
    const f = path.join(d, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch { /* next */ }
  }
  return null;
}

/** The npm CLI script of the npm on PATH (run with any Node.js binary). */
export function npmCliScript(): string {
  const npmOnPath = which('npm', process.env.PATH ?? '');
  if (!npmOnPath) throw new Error('no npm on PATH');
  return path.join(path.dirname(fs.realpathSync(npmOnPath)), 'npm-cli.js');
}

/** The environment npm gets: ours without what a parent `npm test` or `npm run` exported, PATH as given. */
export function npmEnv(pathVar: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, PATH: pathVar, ...extra };
}

/** A folder holding only `node` (the given binary) and `sh`: a PATH with no compiler, make or python. */
export function noCompilerPath(dir: string, node: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(node, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const reachable = BUILD_TOOLS.filter((t) => which(t, bin));
  if (reachable.length) throw new Error(`${reachable.join(', ')} reachable on the no-compiler PATH`);
  return bin;
}

/** Size of a folder as `du -sk` counts it (disk blocks), in MB. */
export function folderMb(dir: string): number {
  return parseInt(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }), 10) / 1024;
}

export interface CleanInstall { userDir: string; seconds: number; log: string; mb: number; status: number | null }

/** npm install of the tarball into a fresh user directory under `parent` (as the palette manager does it). */
export function cleanInstall(parent: string, name: string, node: string, tarball: string, env: NodeJS.ProcessEnv, npmArgs: string[] = []): CleanInstall {
  const userDir = fs.mkdtempSync(path.join(parent, `${name}-`));
  // npm 11 runs better-sqlite3's install script only where the project allows it (the palette's user directory does)
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, allowScripts: { 'better-sqlite3': true } }));
  const started = Date.now();
  const r = spawnSync(node, [npmCliScript(), 'install', '--no-audit', '--no-fund', '--no-update-notifier', '--foreground-scripts', ...npmArgs, tarball], { cwd: userDir, env, encoding: 'utf8', timeout: 900000, maxBuffer: 64 * 1048576 });
  const log = `${r.stdout}\n${r.stderr}`;
  const mb = r.status === 0 ? folderMb(path.join(userDir, 'node_modules')) : NaN;
  return { userDir, seconds: (Date.now() - started) / 1000, log, mb, status: r.status };
}

/** The version of `pkg` installed in a user directory ('' when absent). */
export function installedVersion(userDir: string, pkg: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '';
  }
}
