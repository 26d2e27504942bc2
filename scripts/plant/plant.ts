/**
 * The simulated plant: an OPC-UA server with PLC tags, an MQTT broker where simulated sensors
 * publish, and a "cloud" MQTT broker. Used by `npm start` and by the end-to-end tests.
 * Run alone with `node dist/scripts/plant/plant.js` (same environment variables as the demo).
 */
import path from 'path';
import { startAedesBroker, AedesBroker } from './aedes-broker';
import { PlantSignals, InjectedFault } from './signals';
import { startSensorPublisher, SensorPublisher } from './sensors';
import type { PlantOpcuaOptions } from './opcua-server';

export interface PlantOptions {
  host?: string;
  sensorPort?: number;
  cloudPort?: number;
  opcuaPort?: number;
  /** publish to this broker instead of starting the simulated cloud */
  cloudUrl?: string;
  sensors?: number;
  rateMs?: number;
  /** ground truth of injected faults, one JSON line per fault */
  truthFile?: string;
  seed?: number;
  /** OPC-UA production lines (PLC tag sets) */
  lines?: number;
}

export interface Plant {
  sensorBrokerUrl: string;
  cloudBrokerUrl: string;
  opcuaEndpointUrl: string | null;
  signals: PlantSignals;
  sensorsPublished(): number;
  faults(): InjectedFault[];
  stop(): Promise<void>;
}

interface OpcuaPlant { endpointUrl: string; stop(): Promise<void> }

/**
 * The simulated PLC as the demo runs it. Every tag is historizing (node-opcua's in-memory historian,
 * 2,000 values per tag: 200 s at 100 ms), so the poller fills the hole of a network cut from history.
 */
export function demoOpcuaOptions(port: number, lines: number, rateMs: number): PlantOpcuaOptions {
  return { port, lines, rateMs, history: true };
}

async function startOpcua(port: number, lines: number, rateMs: number): Promise<OpcuaPlant | null> {
  let mod: any;
  try {
    mod = require('./opcua-server');
  } catch {
    return null; // the OPC-UA server module is not built: the plant runs without PLCs
  }
  return mod.startPlantOpcuaServer(demoOpcuaOptions(port, lines, rateMs));
}

export async function startPlant(opts: PlantOptions = {}): Promise<Plant> {
  const host = opts.host ?? '127.0.0.1';
  const rateMs = opts.rateMs ?? 100;
  const signals = new PlantSignals({ sensors: opts.sensors ?? 50, rateMs, seed: opts.seed ?? 1 });
  const stops: Array<() => Promise<void>> = [];
  try {
    const sensorBroker: AedesBroker = await startAedesBroker(opts.sensorPort ?? 1884, host);
    stops.push(() => sensorBroker.close());
    let cloudBrokerUrl = opts.cloudUrl ?? '';
    if (!cloudBrokerUrl) {
      const cloud = await startAedesBroker(opts.cloudPort ?? 1885, host);
      stops.push(() => cloud.close());
      cloudBrokerUrl = cloud.url;
    }
    const opcua = await startOpcua(opts.opcuaPort ?? 4840, opts.lines ?? 2, rateMs);
    if (opcua) stops.push(() => opcua.stop());
    const publisher: SensorPublisher = await startSensorPublisher({ url: sensorBroker.url, signals, truthFile: opts.truthFile });
    stops.push(() => publisher.stop());
    return {
      sensorBrokerUrl: sensorBroker.url,
      cloudBrokerUrl,
      opcuaEndpointUrl: opcua ? opcua.endpointUrl : null,
      signals,
      sensorsPublished: () => publisher.published(),
      faults: () => publisher.faults(),
      stop: async () => {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

/** Plant options from the environment variables shared with the demo. */
export function plantOptionsFromEnv(env: NodeJS.ProcessEnv, truthDir: string): PlantOptions {
  const num = (name: string, dflt: number) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${v}"`);
    return n;
  };
  return {
    sensorPort: num('GENIX_SENSOR_PORT', 1884),
    cloudPort: num('GENIX_CLOUD_PORT', 1885),
    opcuaPort: num('GENIX_OPCUA_PORT', 4840),
    cloudUrl: env.GENIX_CLOUD_URL || undefined,
    sensors: num('GENIX_SENSORS', 50),
    rateMs: Math.max(num('GENIX_RATE_MS', 100), 10),
    lines: num('GENIX_LINES', 2),
    truthFile: path.join(truthDir, 'injected-faults.jsonl'),
  };
}

if (require.main === module) {
  const opts = plantOptionsFromEnv(process.env, process.cwd());
  startPlant(opts).then(
    (plant) => {
      process.stdout.write(`simulated plant running\n  sensors MQTT: ${plant.sensorBrokerUrl} (sensors/<id>/data)\n  cloud MQTT:   ${plant.cloudBrokerUrl}\n  OPC-UA:       ${plant.opcuaEndpointUrl ?? 'not available'}\n  faults:       ${opts.truthFile}\n`);
      const stop = () => plant.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err) => {
      process.stderr.write(`plant: ${err.message}\n`);
      process.exit(1);
    },
  );
}
