// A real small filesystem for disk-full tests: a tmpfs mounted on a temporary directory (needs root).
// Under CI=true a failure to mount fails the test with its reason; locally the test is skipped, saying why.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { requirePrereq } from './prereq';

export function mountTmpfs(ctx: Mocha.Context, size = '4m'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-sf-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err: any) {
    fs.rmSync(dir, { recursive: true, force: true });
    const why = `cannot mount a ${size} tmpfs for a real full disk (${String(err.stderr || err.message).trim()}); run as root`;
    requirePrereq(ctx, false, why);
    throw new Error(why); // requirePrereq has thrown or skipped
  }
}

export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
