/**
 * The example flows under examples/ (Import › Examples › @genix/node-red-iiot), generated from
 * code so that the tests can run exactly these flows against a plant on other ports.
 * `npm run examples` rewrites examples/*.json for the `npm start` plant's default ports.
 */
import fs from 'fs';
import path from 'path';
import { buildDemoFlow, demoAnomalyRules } from './demo-flow';

export interface ExampleEndpoints {
  sensorBrokerUrl: string;
  cloudBrokerUrl: string;
  opcuaEndpointUrl: string;
}

/** Where `npm start` puts the simulated plant. */
export const PLANT_DEFAULTS: ExampleEndpoints = {
  sensorBrokerUrl: 'mqtt://127.0.0.1:1884',
  cloudBrokerUrl: 'mqtt://127.0.0.1:1885',
  opcuaEndpointUrl: 'opc.tcp://127.0.0.1:4840/UA/genix-plant',
};

const ALL_TYPES = new Set(['genix-opcua-endpoint', 'genix-opcua-poller', 'genix-normalizer', 'genix-anomaly', 'genix-store-forward', 'genix-cloud-endpoint', 'genix-cloud-publisher']);

/** Example 05's Sparkplug ids, for the tests' primary host. */
export const EXAMPLE5_SPARKPLUG = { group: 'genix', edgeNode: 'genix-example-05' };

function broker(id: string, name: string, url: string): object {
  const u = new URL(url);
  return { id, type: 'mqtt-broker', name, broker: u.hostname, port: u.port || '1883', clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true };
}

function debug(id: string, z: string, name: string, x: number, y: number, active = true, complete = 'payload'): object {
  return { id, type: 'debug', z, name, active, tosidebar: true, console: false, tostatus: false, complete, targetType: 'msg', statusVal: '', statusType: 'auto', x, y, wires: [] };
}

function comment(id: string, z: string, name: string, info: string, x: number, y: number): object {
  return { id, type: 'comment', z, name, info, x, y, wires: [] };
}

// clientId left empty: each gateway that imports the example gets its own per-installation id
// (two gateways sharing one id would throw each other off the broker forever).
function cloudEndpoint(id: string, url: string): object {
  return { id, type: 'genix-cloud-endpoint', name: 'cloud broker', protocol: 'mqtt', url, clientId: '', protocolVersion: '4', keepalive: 30, cleanSession: true, stateTopic: 'gateways/{clientId}/state', reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 2000 };
}

function normalizer(id: string, z: string, x: number, y: number, wires: string[][]): object {
  return { id, type: 'genix-normalizer', z, name: 'normalize', sensorIdFrom: 'auto', topicPattern: '', tsFormat: 'auto', skew: 'correct', maxFutureMs: 60000, maxPastMs: 604800000, plantId: 'demo-plant', plantIdType: 'str', lineId: 'line-1', lineIdType: 'str', assetId: '', assetIdType: 'str', tags: [], values: [], rules: [], output: 'batch', x, y, wires };
}

/**
 * A simulated sensor source inside the flow, so that an example does something visible right after
 * a palette install with nothing else running: every second one seed-style MQTT message per sensor
 * (`sensors/<id>/data`, `{sensor_id, <measurement>, timestamp}`), as the plant's sensors send them.
 * TEMP-01 leaves its band for 8 s of every minute (from 15 s after deploy), so alarms have
 * something to catch. The example's `mqtt in` node is shipped disabled; switching to the real
 * sensors is one change: enable `mqtt in` and disable the `simulated sensors` inject.
 */
const SIMULATED_SENSORS = `// Simulated plant sensors: one message per sensor per second, shaped like the real ones.
const tick = (context.get('tick') || 0) + 1;
context.set('tick', tick);
const now = Date.now();
const sensors = [
    ['TEMP-01', 'temperature', 45, 3], ['TEMP-02', 'temperature', 45, 3],
    ['PRES-01', 'pressure', 3.2, 0.2], ['VIB-01', 'vibration', 2.5, 0.5], ['HUM-01', 'humidity', 40, 4],
];
return [sensors.map(([id, measurement, base, amp], i) => {
    let value = base + amp * Math.sin(tick / 30 + i) + (Math.random() - 0.5) * amp * 0.2;
    if (id === 'TEMP-01' && tick % 60 >= 15 && tick % 60 < 23) value = base + 20; // a fault to catch
    return { topic: 'sensors/' + id + '/data', payload: { sensor_id: id, [measurement]: Number(value.toFixed(2)), timestamp: now } };
})];
`;

function simulatedSensors(prefix: string, z: string, x: number, y: number, to: string): object[] {
  return [
    { id: `${prefix}-sim-tick`, type: 'inject', z, name: 'simulated sensors', props: [{ p: 'payload' }], repeat: '1', crontab: '', once: true, onceDelay: 1, topic: '', payload: '', payloadType: 'date', x, y, wires: [[`${prefix}-sim`]] },
    { id: `${prefix}-sim`, type: 'function', z, name: 'simulate 5 sensors', func: SIMULATED_SENSORS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: x + 20, y: y + 40, wires: [[to]] },
  ];
}

/** The one documented change of an example with a simulated source: real sensors in, simulation off. */
export function useRealSensors(flow: any[]): any[] {
  return flow.map((n) => (n.type === 'mqtt in' ? { ...n, d: false } : n.type === 'inject' && n.name === 'simulated sensors' ? { ...n, d: true } : n));
}

function example1(e: ExampleEndpoints): object[] {
  const z = 'ex1-tab';
  return [
    { id: z, type: 'tab', label: '01 - MQTT sensors to cloud with buffering', info: 'Vendor sensors over MQTT → canonical readings → durable buffer → cloud, with the delivery loop closed.' },
    broker('ex1-sensors', 'plant sensors', e.sensorBrokerUrl),
    cloudEndpoint('ex1-cloud', e.cloudBrokerUrl),
    comment('ex1-c1', z, 'MQTT sensors → normalizer → store-and-forward ⇄ cloud publisher', 'Runs as imported: **simulated sensors** feed five sensors into the flow. With no cloud broker running, the buffer\'s status shows the backlog it keeps for the cloud; start one (or `npm start`: sensor broker on 127.0.0.1:1884, cloud broker on 127.0.0.1:1885) and the backlog drains.\n\n**Real sensors:** enable the **mqtt in** node and disable the **simulated sensors** inject, then point the two broker settings at yours.\n\n1. **mqtt in** receives every sensor\'s JSON on `sensors/+/data`.\n2. **normalize** turns each vendor payload into a canonical reading `{sensorId, value, ts, quality, unit, measurement}`; anything unusable leaves on its second output with `msg.error`.\n3. **buffer** commits every message to SQLite before forwarding it.\n4. **to cloud** publishes with QoS 1 and answers every message with `msg.delivery.ok`; the wire back into the buffer deletes what the cloud acknowledged and keeps the rest for retry.', 330, 40),
    ...simulatedSensors('ex1', z, 130, 60, 'ex1-norm'),
    { id: 'ex1-in', type: 'mqtt in', z, d: true, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'auto-detect', broker: 'ex1-sensors', nl: false, rap: true, rh: 0, inputs: 0, x: 130, y: 180, wires: [['ex1-norm']] },
    normalizer('ex1-norm', z, 320, 120, [['ex1-buffer'], ['ex1-invalid']]),
    debug('ex1-invalid', z, 'invalid messages', 530, 180, true, 'error'),
    comment('ex1-c2', z, 'The delivery loop', 'Unplug the cloud (stop its broker): the buffer\'s status turns to "waiting for cloud" and its backlog grows; when the broker is back, the backlog is replayed oldest first in batches. Output 2 of the buffer sends metrics every 10 s.', 530, 240),
    { id: 'ex1-buffer', type: 'genix-store-forward', z, name: 'buffer', dbPath: '', synchronous: 'FULL', maxMessages: 1000000, maxBytes: 0, overflow: 'drop-oldest', ttlMs: 604800000, maxInFlight: 100, ackTimeoutMs: 30000, replayRate: 5000, replayBatchSize: 100, retryMinMs: 1000, retryMaxMs: 60000, storeProperties: '', metricsIntervalMs: 10000, x: 530, y: 120, wires: [['ex1-pub'], ['ex1-metrics']] },
    { id: 'ex1-pub', type: 'genix-cloud-publisher', z, name: 'to cloud', endpoint: 'ex1-cloud', topic: 'plant/{plantId}/{lineId}/{sensorId}', qos: 1, batchMaxMessages: 1, batchMaxMs: 0, batchMaxBytes: 131072, x: 740, y: 120, wires: [['ex1-buffer']] },
    debug('ex1-metrics', z, 'buffer metrics', 750, 300, false),
  ];
}

function example2(e: ExampleEndpoints): object[] {
  const z = 'ex2-tab';
  return [
    { id: z, type: 'tab', label: '02 - OPC-UA PLC polling', info: 'Two pollers share one OPC-UA session: one subscribes, one reads cyclically.' },
    { id: 'ex2-plc', type: 'genix-opcua-endpoint', name: 'simulated PLC', endpointUrl: e.opcuaEndpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false, sessionTimeoutMs: 60000, keepAliveMs: 5000, watchdogMs: 20000, backoffMinMs: 1000, backoffMaxMs: 30000, requestTimeoutMs: 10000 },
    comment('ex2-c1', z, 'One OPC-UA session, two pollers', 'The endpoint (config node) holds one client and one session to the PLC at `opc.tcp://127.0.0.1:4840/UA/genix-plant` (the `npm start` plant); every poller that names it shares that session. For a real PLC set the endpoint URL, the security mode and policy, and the user; the server\'s certificate must be trusted (Check server certificate → Trust in the endpoint dialog).\n\nEach reading is `{sensorId, value, ts, quality, statusCode, unit}`; when the connection is lost every item sends one `bad` reading, so alarms downstream see it.', 240, 40),
    { id: 'ex2-sub', type: 'genix-opcua-poller', z, name: 'line 1 (subscription)', endpoint: 'ex2-plc', mode: 'subscribe', intervalMs: 100, queueSize: 10, deadbandType: 'none', deadbandValue: 0, trigger: 'status-value', output: 'each', items: [
      { nodeId: 'ns=2;i=1001', sensorId: 'PLC1-TEMP', unit: 'degC' },
      { nodeId: 'ns=2;i=1002', sensorId: 'PLC1-PRES', unit: 'bar' },
      { nodeId: 'ns=2;i=1003', sensorId: 'PLC1-SPEED', unit: 'rpm' },
    ], x: 170, y: 120, wires: [['ex2-sub-debug']] },
    debug('ex2-sub-debug', z, 'line 1 readings', 420, 120, false),
    comment('ex2-c2', z, 'Cyclic read, one batch per cycle', 'mode `poll` reads all items every `intervalMs` (here 1 s), aligned to the clock and never overlapping; output `batch` sends one array per cycle. `nsu=` NodeIds are resolved by namespace URI after every connect.', 210, 200),
    { id: 'ex2-poll', type: 'genix-opcua-poller', z, name: 'line 2 (cyclic read)', endpoint: 'ex2-plc', mode: 'poll', intervalMs: 1000, queueSize: 10, deadbandType: 'none', deadbandValue: 0, trigger: 'status-value', output: 'batch', items: [
      { nodeId: 'nsu=urn:genix:plant;i=2001', sensorId: 'PLC2-TEMP', unit: 'degC' },
      { nodeId: 'nsu=urn:genix:plant;i=2002', sensorId: 'PLC2-PRES', unit: 'bar' },
      { nodeId: 'nsu=urn:genix:plant;i=2005', sensorId: 'PLC2-RUN' },
    ], x: 170, y: 260, wires: [['ex2-poll-debug'], ['ex2-stats-debug']] },
    debug('ex2-poll-debug', z, 'line 2 batches', 420, 260, true),
    debug('ex2-stats-debug', z, 'poller statistics', 420, 320, true),
    { id: 'ex2-stats', type: 'inject', z, name: 'poller stats', props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', x: 150, y: 320, wires: [['ex2-poll']] },
  ];
}

function example3(e: ExampleEndpoints): object[] {
  const z = 'ex3-tab';
  return [
    { id: z, type: 'tab', label: '03 - Anomaly alarms', info: 'Readings → detector → one alarm event per state change.' },
    broker('ex3-sensors', 'plant sensors', e.sensorBrokerUrl),
    comment('ex3-c1', z, 'Alarms from sensor readings', 'Runs as imported: **simulated sensors** feed five sensors, and TEMP-01 leaves its band for 8 s of every minute, so **alarm events** shows it go active and clear. **Real sensors:** enable the **mqtt in** node (the `npm start` plant\'s broker is 127.0.0.1:1884) and disable the **simulated sensors** inject.\n\nThe detector applies the first rule whose `match` glob fits the sensorId. These rules catch the simulated plant\'s injected faults (spikes and drifts: deviation from baseline; stuck values: flatline; dropouts: stale). Readings pass through on output 1, tagged with `alarms` while any are active; output 2 sends one event per alarm state change (active, cleared, acknowledged, shelved…), never one per sample.', 230, 40),
    ...simulatedSensors('ex3', z, 130, 60, 'ex3-norm'),
    { id: 'ex3-in', type: 'mqtt in', z, d: true, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'auto-detect', broker: 'ex3-sensors', nl: false, rap: true, rh: 0, inputs: 0, x: 130, y: 180, wires: [['ex3-norm']] },
    normalizer('ex3-norm', z, 320, 120, [['ex3-anomaly'], []]),
    { id: 'ex3-anomaly', type: 'genix-anomaly', z, name: 'plant alarms', rules: demoAnomalyRules, store: '', saveEveryMs: 10000, sweepMs: 500, liveClock: true, x: 520, y: 120, wires: [['ex3-readings'], ['ex3-alarms']] },
    debug('ex3-readings', z, 'annotated readings', 740, 100, false),
    debug('ex3-alarms', z, 'alarm events', 730, 140, true),
    comment('ex3-c2', z, 'Operator actions by message', 'Send `msg.command` = `ack`, `shelve` (payload `{sensorId, kind?, durationMs}`), `unshelve`, `reset` or `rules` (payload = new rules).', 230, 200),
    { id: 'ex3-ack', type: 'inject', z, name: 'acknowledge all', props: [{ p: 'command', v: 'ack', vt: 'str' }, { p: 'payload', v: '{"sensorId":"*"}', vt: 'json' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 320, y: 260, wires: [['ex3-anomaly']] },
    { id: 'ex3-shelve', type: 'inject', z, name: 'shelve HUM-* for 10 min', props: [{ p: 'command', v: 'shelve', vt: 'str' }, { p: 'payload', v: '{"sensorId":"HUM-*","durationMs":600000}', vt: 'json' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 340, y: 300, wires: [['ex3-anomaly']] },
    { id: 'ex3-reset', type: 'inject', z, name: 'reset all sensors', props: [{ p: 'command', v: 'reset', vt: 'str' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 320, y: 340, wires: [['ex3-anomaly']] },
  ];
}

function example4(e: ExampleEndpoints): object[] {
  const flow = buildDemoFlow({ types: ALL_TYPES, sensorBrokerUrl: e.sensorBrokerUrl, cloudBrokerUrl: e.cloudBrokerUrl, opcuaEndpointUrl: e.opcuaEndpointUrl, lines: 2, rateMs: 100, dashboard: false }) as any[];
  // Ids of its own, so that it can be imported next to the running demo.
  const ids = new Map<string, string>(flow.map((n) => [n.id, n.id.replace(/^(genix-)?demo-/, 'ex4-')]));
  const rename = (v: any): any => (typeof v === 'string' && ids.has(v) ? ids.get(v) : Array.isArray(v) ? v.map(rename) : v);
  return flow.map((n) => {
    const out: any = {};
    for (const [k, v] of Object.entries(n)) out[k] = k === 'id' || k === 'z' || k === 'wires' || k === 'broker' || k === 'endpoint' ? rename(v) : v;
    if (out.type === 'tab') out.label = '04 - Plant gateway';
    return out;
  });
}

function example5(e: ExampleEndpoints): object[] {
  const z = 'ex5-tab';
  return [
    { id: z, type: 'tab', label: '05 - Sparkplug B edge node', info: 'OPC-UA PLC tags and MQTT sensors → normalizer → anomaly → store-and-forward → Sparkplug B to a local broker, alarm events as their own device.' },
    broker('ex5-sensors', 'plant sensors', e.sensorBrokerUrl),
    { id: 'ex5-plc', type: 'genix-opcua-endpoint', name: 'simulated PLC (05)', endpointUrl: e.opcuaEndpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false, sessionTimeoutMs: 60000, keepAliveMs: 5000, watchdogMs: 20000, backoffMinMs: 1000, backoffMaxMs: 30000, requestTimeoutMs: 10000 },
    { id: 'ex5-broker', type: 'genix-cloud-endpoint', name: 'Sparkplug broker', protocol: 'mqtt', url: e.cloudBrokerUrl, clientId: '', protocolVersion: '4', keepalive: 30, cleanSession: true, stateTopic: '', reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 2000 },
    comment('ex5-c1', z, 'Sparkplug B edge node: PLC + sensors → buffer → spBv1.0/genix/…/genix-example-05', 'The **sparkplug out** node is an edge node `genix-example-05` in group `genix` on the broker of the endpoint "Sparkplug broker" (the `npm start` cloud broker on 127.0.0.1:1885; point it at the broker of your SCADA).\n\n- Readings become device metrics: device = the reading\'s `lineId` (`line-1` for the MQTT sensors, `plc-1` for the PLC tags), metric = `sensorId` or `sensorId/measurement`.\n- Alarm events from the detector go to the device `alarms` (metric `sensorId/kind`, value = state).\n- On every connection: NDEATH as last will, NBIRTH, every DBIRTH, then DDATA with aliases only.\n- The buffer keeps everything the broker has not acknowledged; what it replays after an outage is sent with `is_historical`.\n\nFor an Ignition-style primary host set **Primary host ID** (and its STATE version) in the sparkplug out node: it then publishes only while the host is online.', 360, 40),
    { id: 'ex5-in', type: 'mqtt in', z, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'auto-detect', broker: 'ex5-sensors', nl: false, rap: true, rh: 0, inputs: 0, x: 130, y: 140, wires: [['ex5-norm']] },
    normalizer('ex5-norm', z, 320, 140, [['ex5-anomaly'], []]),
    { id: 'ex5-poll', type: 'genix-opcua-poller', z, name: 'PLC (subscription)', endpoint: 'ex5-plc', mode: 'subscribe', intervalMs: 1000, queueSize: 10, deadbandType: 'none', deadbandValue: 0, trigger: 'status-value', output: 'each', items: [
      { nodeId: 'ns=2;i=1001', sensorId: 'PLC1-TEMP', unit: 'degC' },
      { nodeId: 'ns=2;i=1002', sensorId: 'PLC1-PRES', unit: 'bar' },
    ], x: 150, y: 220, wires: [['ex5-norm-plc']] },
    { ...(normalizer('ex5-norm-plc', z, 340, 220, [['ex5-anomaly'], []]) as Record<string, unknown>), name: 'normalize PLC', lineId: 'plc-1', output: 'each' },
    { id: 'ex5-anomaly', type: 'genix-anomaly', z, name: 'plant alarms', rules: demoAnomalyRules, store: '', saveEveryMs: 10000, sweepMs: 500, liveClock: true, x: 540, y: 180, wires: [['ex5-buffer'], ['ex5-buffer']] },
    { id: 'ex5-buffer', type: 'genix-store-forward', z, name: 'buffer', dbPath: '', synchronous: 'FULL', maxMessages: 1000000, maxBytes: 0, overflow: 'drop-oldest', ttlMs: 604800000, maxInFlight: 100, ackTimeoutMs: 30000, replayRate: 5000, replayBatchSize: 100, retryMinMs: 1000, retryMaxMs: 60000, storeProperties: '', metricsIntervalMs: 0, x: 730, y: 180, wires: [['ex5-spb'], []] },
    { id: 'ex5-spb', type: 'genix-sparkplug-out', z, name: 'Sparkplug B edge node', endpoint: 'ex5-broker', group: EXAMPLE5_SPARKPLUG.group, edgeNode: EXAMPLE5_SPARKPLUG.edgeNode, deviceField: 'lineId', defaultDevice: 'readings', alarmDevice: 'alarms', hostId: '', stateVersion: '3.0', x: 940, y: 180, wires: [['ex5-buffer']] },
    comment('ex5-c2', z, 'Sparkplug B in', 'To read Sparkplug B from other edge nodes: an **mqtt in** on `spBv1.0/#` with output "a Buffer", wired into a **normalizer** (each metric becomes a reading `<device>/<metric>`).', 360, 300),
  ];
}

// Example 06: Google Cloud Pub/Sub (readings to topic sensor-data, alarm events to topic anomalies).
/** Where `GENIX_PUBSUB=1 npm start` runs the Pub/Sub emulator, and the demo project's id. */
export const PUBSUB_DEMO = { host: '127.0.0.1:8085', projectId: 'genix-demo', readingsTopic: 'sensor-data', alarmsTopic: 'anomalies' };

export function example6(e: ExampleEndpoints, pubsubHost = PUBSUB_DEMO.host): object[] {
  const z = 'ex6-tab';
  const buffer = (id: string, name: string, pub: string, x: number, y: number) => ({ id, type: 'genix-store-forward', z, name, dbPath: '', synchronous: 'FULL', maxMessages: 1000000, maxBytes: 0, overflow: 'drop-oldest', ttlMs: 604800000, maxInFlight: 100, ackTimeoutMs: 30000, replayRate: 5000, replayBatchSize: 100, retryMinMs: 1000, retryMaxMs: 60000, storeProperties: '', metricsIntervalMs: 0, x, y, wires: [[pub], []] });
  return [
    { id: z, type: 'tab', label: '06 - Google Cloud Pub/Sub', info: 'Readings to Pub/Sub topic sensor-data, alarm events to topic anomalies, each behind its own durable buffer.' },
    broker('ex6-sensors', 'plant sensors', e.sensorBrokerUrl),
    { id: 'ex6-cloud', type: 'genix-cloud-endpoint', name: 'Pub/Sub (emulator)', protocol: 'pubsub', url: '', projectId: PUBSUB_DEMO.projectId, pubsubTopic: PUBSUB_DEMO.readingsTopic, orderingKey: '{sensorId}', attributes: 'sensorId,measurement,quality,plantId,lineId,kind,state,severity', apiEndpoint: pubsubHost, timeoutMs: 10000, clientId: '', tls: '', protocolVersion: '4', keepalive: 60, cleanSession: true, stateTopic: '', reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 200, answerTimeoutMs: 30000, sessionExpirySec: 3600, httpFormat: 'json', gzip: false, apiKeyHeader: '' },
    comment('ex6-c1', z, 'MQTT sensors → normalizer → anomaly → buffers ⇄ Google Cloud Pub/Sub', `Needs Google's client: \`npm install @google-cloud/pubsub\` in the Node-RED user directory.\n\n**Against the emulator**: \`GENIX_PUBSUB=1 npm start\` starts it on ${pubsubHost} with project \`${PUBSUB_DEMO.projectId}\` and the topics \`sensor-data\` and \`anomalies\` (subscriptions \`sensor-data-demo\`, \`anomalies-demo\`).\n\n**Against your project**: in the endpoint, clear *API endpoint*, set your *Project ID*, paste the JSON key of a service account with the Pub/Sub Publisher role, and create the two topics. Each reading becomes one message (ordering key: the sensor id; attributes: sensorId, measurement, quality…). Every publish is answered with msg.delivery (and msg.messageIds): the buffers delete what Pub/Sub accepted and retry the rest.`, 330, 40),
    { id: 'ex6-in', type: 'mqtt in', z, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'auto-detect', broker: 'ex6-sensors', nl: false, rap: true, rh: 0, inputs: 0, x: 130, y: 120, wires: [['ex6-norm']] },
    normalizer('ex6-norm', z, 310, 120, [['ex6-anomaly'], ['ex6-invalid']]),
    debug('ex6-invalid', z, 'invalid messages', 520, 200, true, 'error'),
    { id: 'ex6-anomaly', type: 'genix-anomaly', z, name: 'plant alarms', rules: demoAnomalyRules, store: '', saveEveryMs: 10000, sweepMs: 500, liveClock: true, x: 500, y: 120, wires: [['ex6-buf-readings'], ['ex6-buf-alarms']] },
    buffer('ex6-buf-readings', 'readings buffer', 'ex6-pub-readings', 710, 100),
    buffer('ex6-buf-alarms', 'alarms buffer', 'ex6-pub-alarms', 710, 160),
    { id: 'ex6-pub-readings', type: 'genix-cloud-publisher', z, name: 'to sensor-data', endpoint: 'ex6-cloud', topic: PUBSUB_DEMO.readingsTopic, qos: 1, batchMaxMessages: 1, batchMaxMs: 0, batchMaxBytes: 131072, x: 920, y: 100, wires: [['ex6-buf-readings']] },
    { id: 'ex6-pub-alarms', type: 'genix-cloud-publisher', z, name: 'to anomalies', endpoint: 'ex6-cloud', topic: PUBSUB_DEMO.alarmsTopic, qos: 1, batchMaxMessages: 1, batchMaxMs: 0, batchMaxBytes: 131072, x: 910, y: 160, wires: [['ex6-buf-alarms', 'ex6-alarm-reports']] },
    debug('ex6-alarm-reports', z, 'alarm delivery reports', 1140, 200, false, 'true'),
  ];
}

export function exampleFlows(e: ExampleEndpoints = PLANT_DEFAULTS): Array<{ file: string; flow: object[] }> {
  return [
    { file: '01 - MQTT sensors to cloud with buffering.json', flow: example1(e) },
    { file: '02 - OPC-UA PLC polling.json', flow: example2(e) },
    { file: '03 - Anomaly alarms.json', flow: example3(e) },
    { file: '04 - Plant gateway.json', flow: example4(e) },
    { file: '05 - Sparkplug B edge node.json', flow: example5(e) },
    { file: '06 - Google Cloud Pub-Sub.json', flow: example6(e) },
  ];
}

if (require.main === module) {
  const dir = path.resolve(__dirname, '..', '..', 'examples');
  fs.mkdirSync(dir, { recursive: true });
  for (const { file, flow } of exampleFlows()) fs.writeFileSync(path.join(dir, file), `${JSON.stringify(flow, null, 2)}\n`);
  process.stdout.write(`wrote ${exampleFlows().length} example flows to ${dir}\n`);
}
