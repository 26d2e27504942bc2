// A private Mosquitto (Debian's package) on a free port, for tests and benchmarks.
import { spawn, execFileSync, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { waitForPort } from './net';

export function mosquittoPath(): string | null {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (fs.existsSync(p)) return p;
  }
  try {
    return execFileSync('which', ['mosquitto']).toString().trim() || null;
  } catch {
    return null;
  }
}

export interface Mosquitto {
  port: number;
  url: string;
  /** SIGTERM and wait for the exit */
  stop(): Promise<void>;
  /** start again on the same port and configuration */
  restart(): Promise<void>;
  pid(): number | undefined;
}

/** Starts Mosquitto on 127.0.0.1:port; returns null when Mosquitto is not installed. */
export async function startMosquittoProcess(port: number, extraConf = ''): Promise<Mosquitto | null> {
  const bin = mosquittoPath();
  if (!bin) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-mosq-'));
  const conf = path.join(dir, 'mosquitto.conf');
  const base = /^persistence\s/m.test(extraConf) ? '' : 'persistence false\n';
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n${base}max_inflight_messages 0\nmax_queued_messages 1000000\n${extraConf}\n`);
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port, '127.0.0.1', 10000);
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pid: () => child?.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      }),
    restart: start,
  };
}
