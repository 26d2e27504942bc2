// The Google Cloud Pub/Sub emulator (Debian's google-cloud-cli-pubsub-emulator) on a free port, for tests,
// benchmarks and the demo. `gcloud` starts a Java process of its own: both run in their own process group,
// and stopping kills the whole group, or the Java server outlives the run.
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { waitForPort } from './net';

const GCLOUD = ['/usr/bin/gcloud', '/usr/lib/google-cloud-sdk/bin/gcloud'];
const EMULATOR_DIRS = ['/usr/lib/google-cloud-sdk/platform/pubsub-emulator', '/usr/share/google-cloud-sdk/platform/pubsub-emulator'];

/** gcloud and its Pub/Sub emulator component; null (with the reason in `pubsubEmulatorMissing`) when absent. */
export function pubsubEmulatorPath(): string | null {
  const gcloud = GCLOUD.find((p) => fs.existsSync(p));
  if (!gcloud) return null;
  return EMULATOR_DIRS.some((d) => fs.existsSync(d)) ? gcloud : null;
}

export const pubsubEmulatorMissing =
  'the Google Cloud Pub/Sub emulator is not installed (apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator; it needs Java)';

export interface PubsubEmulator {
  port: number;
  /** host:port, the value for PUBSUB_EMULATOR_HOST or the endpoint's API endpoint */
  host: string;
  /** SIGTERM to the whole process group, SIGKILL after 5 s; resolves once gcloud has exited */
  stop(): Promise<void>;
  /** SIGKILL to the whole process group at once (a crash) */
  kill(): Promise<void>;
  /** start again on the same port; the emulator keeps nothing: topics and subscriptions are gone */
  restart(): Promise<void>;
  pid(): number | undefined;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// a run that ends without stop() (an exception, Ctrl-C) must not leave Java behind
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

async function endGroup(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.pid === undefined) return;
  const pid = child.pid;
  live.delete(pid);
  try {
    process.kill(-pid, signal);
  } catch {
    return; // the group is gone already
  }
  const deadline = Date.now() + 5000;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the emulator on 127.0.0.1:port (Java: several seconds); returns null when it is not installed. */
export async function startPubsubEmulator(port: number, timeoutMs = 90000): Promise<PubsubEmulator | null> {
  const gcloud = pubsubEmulatorPath();
  if (!gcloud) return null;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pubsub-'));
  let child: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    output = '';
    const c = spawn(gcloud, ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`, '--quiet'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    });
    child = c;
    if (c.pid !== undefined) live.add(c.pid);
    const keep = (b: Buffer) => { output = (output + b.toString()).slice(-4000); };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    // a test run must not wait for the emulator to end
    c.unref();
    (c.stdout as any)?.unref?.();
    (c.stderr as any)?.unref?.();
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`the Pub/Sub emulator exited (${code}) before listening: ${output.trim()}`))));
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForPort(port, '127.0.0.1', timeoutMs), exited]);
    } catch (e) {
      await endGroup(c, 'SIGKILL');
      throw e;
    }
  };
  await start();
  const stopped = () => {
    const dead = child;
    child = null;
    return dead;
  };
  return {
    port,
    host: `127.0.0.1:${port}`,
    pid: () => child?.pid,
    stop: async () => {
      await endGroup(stopped(), 'SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    kill: () => endGroup(stopped(), 'SIGKILL'),
    restart: start,
  };
}
