// A private Mosquitto (Debian's package) on a free port, for tests and benchmarks.
import { spawn, execFileSync, ChildProcess } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

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

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 30));
  }
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
    await waitForPort(port, 10000);
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
