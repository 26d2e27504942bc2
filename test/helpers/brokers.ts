// Real MQTT brokers for tests: aedes in-process always, Mosquitto when it is installed.
import { spawn, execFileSync, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort, waitForPort } from './net';
import { startAedesBroker } from '../../scripts/plant/aedes-broker';

export interface TestBroker {
  kind: 'aedes' | 'mosquitto';
  port: number;
  url: string;
  stop(): Promise<void>;
  /** start again on the same port after stop() (outage tests) */
  restart(): Promise<void>;
}

export async function startAedes(port?: number): Promise<TestBroker> {
  const p = port ?? (await freePort());
  let b = await startAedesBroker(p);
  const tb: TestBroker = {
    kind: 'aedes',
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    stop: async () => { await b.close(); },
    restart: async () => { b = await startAedesBroker(p); },
  };
  return tb;
}

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

/** Starts a private Mosquitto on a free port; returns null when Mosquitto is not installed. */
export async function startMosquitto(port?: number, extraConf = ''): Promise<TestBroker | null> {
  const bin = mosquittoPath();
  if (!bin) return null;
  const p = port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-mosq-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${p} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 1000000\n${extraConf}\n`);
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    await waitForPort(p);
  };
  await start();
  return {
    kind: 'mosquitto',
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    stop: () => new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    }),
    restart: start,
  };
}

/** The brokers every MQTT test runs against: aedes, plus Mosquitto when installed. */
export const brokerKinds: Array<{ kind: 'aedes' | 'mosquitto'; available: boolean; start: (port?: number) => Promise<TestBroker> }> = [
  { kind: 'aedes', available: true, start: (port) => startAedes(port) },
  {
    kind: 'mosquitto',
    available: mosquittoPath() !== null,
    start: async (port) => {
      const b = await startMosquitto(port);
      if (!b) throw new Error('mosquitto is not installed');
      return b;
    },
  },
];
