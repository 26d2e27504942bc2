// Real MQTT brokers for tests: aedes in-process always, Mosquitto when it is installed.
import { freePort } from './net';
import { startAedesBroker } from '../../scripts/plant/aedes-broker';
import { mosquittoPath, startMosquittoProcess } from '../../scripts/plant/mosquitto';

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

export { mosquittoPath };

/** Starts a private Mosquitto on a free port; returns null when Mosquitto is not installed. */
export async function startMosquitto(port?: number, extraConf = ''): Promise<TestBroker | null> {
  const m = await startMosquittoProcess(port ?? (await freePort()), extraConf);
  if (!m) return null;
  return { kind: 'mosquitto', port: m.port, url: m.url, stop: m.stop, restart: m.restart };
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
