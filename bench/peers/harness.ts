// Side-by-side benchmarks against the peers a user would pick instead (issue 16): installs the peers
// on demand into bench/peers/node_modules (never a dependency of the package), runs every leg in its
// own process, the limit (bare client / raw SQLite) first, alternating the legs run after run, and
// reports the median with min and max.
import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Figure, SideBySide } from '../lib';

export const QUICK = process.env.GENIX_BENCH_QUICK === '1';
/** Runs per leg: at least 3, alternating (GENIX_BENCH_RUNS raises it). */
export const RUNS = Math.max(3, Number(process.env.GENIX_BENCH_RUNS || 3));

/** The repository root, from bench/peers (ts-node) or dist/bench/peers (compiled). */
export function repoRoot(): string {
  let dir = __dirname;
  while (dir !== path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === '@genix/node-red-iiot') return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

export const PEERS_DIR = path.join(repoRoot(), 'bench', 'peers');

export interface PeerInstall { name: string; version?: string; error?: string }

/** Installs bench/peers/package.json's dependencies when one is missing; returns each peer's installed version or the exact install error. */
export function ensurePeers(): PeerInstall[] {
  const wanted = Object.keys(JSON.parse(fs.readFileSync(path.join(PEERS_DIR, 'package.json'), 'utf8')).dependencies as Record<string, string>);
  const installed = (name: string) => path.join(PEERS_DIR, 'node_modules', name, 'package.json');
  let installError = '';
  if (wanted.some((n) => !fs.existsSync(installed(n)))) {
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: PEERS_DIR, encoding: 'utf8', timeout: 600000 });
    if (r.status !== 0) installError = `npm install in bench/peers failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${tail(r.stderr || r.stdout || '')}`;
  }
  return wanted.map((name) => {
    try {
      return { name, version: JSON.parse(fs.readFileSync(installed(name), 'utf8')).version as string };
    } catch {
      return { name, error: installError || `${name} is not installed in bench/peers/node_modules` };
    }
  });
}

export function versionOf(pkg: string, from = repoRoot()): string {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [from] }), 'utf8')).version;
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

/**
 * A Node-RED user folder whose node_modules holds only the named peer (a link into
 * bench/peers/node_modules), so Node-RED loads it as an installed node and no other peer's memory is counted.
 */
export function peerUserDir(peer: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-peer-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(PEERS_DIR, 'node_modules', peer), path.join(dir, 'node_modules', peer), 'dir');
  return dir;
}

export function tail(s: string, n = 1500): string {
  const t = s.trim();
  return t.length > n ? `…${t.slice(-n)}` : t;
}

export type Sample = Record<string, number>;

/**
 * Runs one leg in its own process (`node --expose-gc <script> leg <name> <json>`): the leg prints
 * its sample as the last JSON line of stdout. Rejects with the leg's stderr on failure or timeout.
 */
export function runLeg(script: string, leg: string, params: object, timeoutMs = 180000): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, 'leg', leg, JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { err += `\n(leg timed out after ${timeoutMs} ms and was killed)`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code === 0 && last) {
        try { resolve(JSON.parse(last)); return; } catch { /* reported below */ }
      }
      reject(new Error(`${leg} exited with ${code ?? signal}: ${tail(err || out)}`));
    });
  });
}

export interface Leg { who: string; role: Figure['role']; version?: string; note?: string; error?: string; run(i: number): Promise<Sample> }

/** Runs the legs in order (limit first), `RUNS` times round, and keeps every sample or the first error of each leg. */
export async function alternate(legs: Leg[], log = (s: string) => process.stdout.write(`${s}\n`)): Promise<Map<string, { samples: Sample[]; error?: string }>> {
  const out = new Map<string, { samples: Sample[]; error?: string }>();
  for (const l of legs) out.set(l.who, { samples: [], error: l.error });
  for (let i = 0; i < RUNS; i++) {
    for (const l of legs) {
      const o = out.get(l.who)!;
      if (o.error) continue;
      try {
        const s = await l.run(i);
        o.samples.push(s);
        log(`  run ${i + 1}/${RUNS} ${l.who}: ${JSON.stringify(s)}`);
      } catch (err) {
        o.error = (err as Error).message;
        log(`  run ${i + 1}/${RUNS} ${l.who}: FAILED ${o.error}`);
      }
    }
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The figure of one leg for one metric of its samples. */
export function figure(leg: Leg, res: { samples: Sample[]; error?: string } | undefined, metric: string, note?: string): Figure {
  const runs = (res?.samples ?? []).map((s) => s[metric]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const f: Figure = { who: leg.who, role: leg.role, runs };
  if (leg.version) f.version = leg.version;
  if (runs.length) {
    f.median = median(runs);
    f.min = Math.min(...runs);
    f.max = Math.max(...runs);
  }
  if (res?.error) f.error = res.error;
  const n = note ?? leg.note;
  if (n) f.note = n;
  return f;
}

export function sideBySide(row: string, metric: string, unit: string, better: SideBySide['better'], legs: Leg[], res: Map<string, { samples: Sample[]; error?: string }>, key: string, notes: Record<string, string> = {}): SideBySide {
  return { row, metric, unit, better, figures: legs.map((l) => figure(l, res.get(l.who), key, notes[l.who])) };
}

/** Waits until fn() is true, polling every 20 ms. */
export async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A full GC when the leg runs with --expose-gc (runLeg passes it). */
export function gc(): void {
  const g = (global as { gc?: () => void }).gc;
  if (g) { g(); g(); }
}
