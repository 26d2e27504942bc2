// The `npm start` demo flow, built for the ports the simulated plant got and for the node types
// that are built (a flow that names a missing type would not start at all).
import fs from 'fs';
import path from 'path';

export interface DemoFlowOptions {
  types: Set<string>;
  sensorBrokerUrl: string;
  cloudBrokerUrl: string;
  opcuaEndpointUrl: string | null;
  lines: number;
  rateMs: number;
}

export function availableTypes(distNodes: string): Set<string> {
  const types = new Set<string>();
  if (!fs.existsSync(distNodes)) return types;
  for (const f of fs.readdirSync(distNodes)) {
    const m = /^(genix-[a-z-]+)\.js$/.exec(f);
    if (m && fs.existsSync(path.join(distNodes, `${m[1]}.html`))) types.add(m[1]);
  }
  return types;
}

function hostPort(url: string): { host: string; port: string } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port || '1883' };
}

export function buildDemoFlow(o: DemoFlowOptions): object[] {
  const z = 'genix-demo-tab';
  const has = (t: string) => o.types.has(t);
  const sensors = hostPort(o.sensorBrokerUrl);
  const flow: any[] = [
    { id: z, type: 'tab', label: 'Plant gateway demo', info: 'Simulated plant → genix nodes → simulated cloud. Rebuilt at every `npm start` unless GENIX_KEEP_FLOWS=1.' },
    {
      id: 'demo-sensor-broker', type: 'mqtt-broker', name: 'simulated sensors', broker: sensors.host, port: sensors.port,
      clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true,
    },
    {
      id: 'demo-comment-sensors', type: 'comment', z, name: 'MQTT sensors: sensors/<id>/data, seed-style JSON',
      info: 'The simulated plant publishes one JSON message per sensor every sample period.', x: 230, y: 40, wires: [],
    },
    {
      id: 'demo-mqtt-in', type: 'mqtt in', z, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'utf8',
      broker: 'demo-sensor-broker', nl: false, rap: true, rh: 0, inputs: 0, x: 150, y: 100, wires: [[]],
    },
  ];
  const mqttIn = flow.find((n) => n.id === 'demo-mqtt-in');
  let readingsFrom: any = mqttIn;

  if (has('genix-normalizer')) {
    flow.push(
      { id: 'demo-normalizer', type: 'genix-normalizer', z, name: 'normalize', plantId: 'demo-plant', plantIdType: 'str', output: 'batch', x: 360, y: 100, wires: [[], ['demo-invalid']] },
      { id: 'demo-invalid', type: 'debug', z, name: 'invalid sensor messages', active: true, tosidebar: true, console: false, complete: 'error', targetType: 'msg', statusVal: '', statusType: 'auto', x: 600, y: 160, wires: [] },
    );
    mqttIn.wires = [['demo-normalizer']];
    readingsFrom = flow.find((n) => n.id === 'demo-normalizer');
  } else {
    flow.push({ id: 'demo-raw', type: 'debug', z, name: 'sensor messages', active: false, tosidebar: true, complete: 'payload', targetType: 'msg', x: 380, y: 100, wires: [] });
    mqttIn.wires = [['demo-raw']];
  }
  void readingsFrom;
  return flow;
}
