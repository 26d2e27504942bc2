// Simulated vendor sensors: publish PlantSignals as seed-style JSON to sensors/<id>/data over MQTT,
// and write each injected fault's ground truth (one JSON line per fault) as the fault starts.
import fs from 'fs';
import mqtt from 'mqtt';
import { PlantSignals, InjectedFault } from './signals';

export interface SensorPublisher {
  /** messages published so far */
  published(): number;
  /** faults started so far (the ground truth written to the truth file) */
  faults(): InjectedFault[];
  stop(): Promise<void>;
}

export async function startSensorPublisher(opts: {
  url: string;
  signals: PlantSignals;
  truthFile?: string;
  /** called for every published reading (tests keep the record of what was sent) */
  onPublish?: (sensorId: string, ts: number) => void;
}): Promise<SensorPublisher> {
  const { signals } = opts;
  const client = await mqtt.connectAsync(opts.url, { clientId: `genix-sim-sensors-${process.pid}`, reconnectPeriod: 1000 });
  if (opts.truthFile) fs.writeFileSync(opts.truthFile, '');
  const started: InjectedFault[] = [];
  let nextFault = 0;
  let count = 0;
  const rate = signals.rateMs;
  const tick = () => {
    const ts = Math.floor(Date.now() / rate) * rate;
    while (signals.faultsOn && signals.sensors.length > 0 && signals.fault(nextFault).start <= ts) {
      const f = signals.fault(nextFault);
      started.push(f);
      if (opts.truthFile) fs.appendFileSync(opts.truthFile, `${JSON.stringify(f)}\n`);
      nextFault++;
    }
    if (!client.connected) return;
    for (let i = 0; i < signals.sensors.length; i++) {
      const m = signals.message(i, ts);
      if (!m) continue;
      client.publish(`sensors/${m.sensor_id}/data`, JSON.stringify(m), { qos: 0 });
      count++;
      if (opts.onPublish) opts.onPublish(m.sensor_id, ts);
    }
  };
  const timer = setInterval(tick, rate);
  return {
    published: () => count,
    faults: () => started.slice(),
    stop: async () => {
      clearInterval(timer);
      await client.endAsync(true);
    },
  };
}
