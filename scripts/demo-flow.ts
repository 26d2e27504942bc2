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
  /** add the FlowFuse Dashboard 2.0 page (the module must be loadable by Node-RED) */
  dashboard: boolean;
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

/** Units of the simulated sensors and the range a healthy instrument can report (beyond it: invalid). */
const normalizerRules = [
  { match: 'temperature', from: 'degC', min: '-40', max: '200' },
  { match: 'pressure', from: 'bar', min: '0', max: '50' },
  { match: 'vibration', from: 'mm/s', min: '0', max: '100' },
  { match: 'humidity', from: '%RH', min: '0', max: '100' },
];

/**
 * Alarm rules that catch the simulated plant's injected faults (scripts/plant/signals.ts). Stuck and
 * stale are counted in each sensor's own periods, so the rules hold at any GENIX_RATE_MS.
 */
export const demoAnomalyRules = [
  { match: 'TEMP-*', baseline: 45, deviation: 7.5, zscore: 6, flatlinePeriods: 50, stalePeriods: 30 },
  { match: 'PRES-*', baseline: 3.2, deviation: 0.75, zscore: 6, flatlinePeriods: 50, stalePeriods: 30 },
  { match: 'VIB-*', baseline: 2.5, deviation: 2.25, zscore: 6, flatlinePeriods: 50, stalePeriods: 30 },
  { match: 'HUM-*', baseline: 40, deviation: 12, zscore: 6, flatlinePeriods: 50, stalePeriods: 30 },
  { match: 'PLC*-TEMP', hihi: 80, hi: 70, lo: 40, lolo: 30, deadband: 1, onDelayMs: 1000, staleMs: 5000 },
  // A run signal changes only when the line starts or stops: no stale check.
  { match: 'PLC*-RUN' },
  { match: '*', staleMs: 5000 },
];

const chartFeed = `// One point per sensor per second for the charts, and the rules' limits as flat lines.
const last = context.get('last') || {};
const out = [];
const readings = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
for (const r of readings) {
    if (!r || typeof r.value !== 'number') continue;
    if (!/^TEMP-0[1-4]$|^PLC\\d+-TEMP$/.test(r.sensorId)) continue;
    if (last[r.sensorId] && r.ts - last[r.sensorId] < 1000) continue;
    last[r.sensorId] = r.ts;
    out.push({ topic: r.sensorId, payload: r.value, timestamp: r.ts });
}
const now = Date.now();
if (!last.$limits || now - last.$limits >= 5000) {
    last.$limits = now;
    out.push({ topic: 'deviation limit (TEMP)', payload: 52.5, timestamp: now });
    out.push({ topic: 'hi limit (PLC)', payload: 70, timestamp: now });
}
context.set('last', last);
return [out];`;

const alarmTable = `// Keep the active alarms and show them as a table.
const active = context.get('active') || {};
const a = msg.payload;
if (!a || !a.sensorId) return null;
const key = a.sensorId + ':' + a.kind;
if (a.state === 'cleared') delete active[key];
else active[key] = { sensor: a.sensorId, kind: a.kind, state: a.state, severity: a.severity, value: a.value, since: new Date(a.activeSince || a.ts).toISOString().slice(11, 19), message: a.message };
context.set('active', active);
return { payload: Object.values(active) };`;

const backlogFeed = `// Store-and-forward metrics → backlog chart and status text.
const m = msg.payload || {};
const depth = Number(m.depth ?? m.backlog ?? 0);
return [
    { topic: 'backlog (messages)', payload: depth },
    { payload: 'backlog ' + depth + ' msgs, in flight ' + (m.inFlight ?? 0) + ', delivered ' + Math.round(m.deliveredPerSec ?? m.deliveredPerSecond ?? 0) + '/s, dead letters ' + (m.deadLetters ?? 0) },
];`;

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
    { id: 'demo-c1', type: 'comment', z, name: 'MQTT sensors (vendor JSON)', info: 'Every simulated sensor publishes `{"sensor_id":"TEMP-01","temperature":42.5,"timestamp":…}` to `sensors/<id>/data`. The normalizer turns each into a canonical reading; the detector passes readings on and emits alarm state changes.', x: 260, y: 40, wires: [] },
    { id: 'demo-mqtt-in', type: 'mqtt in', z, name: 'sensors/+/data', topic: 'sensors/+/data', qos: '0', datatype: 'utf8', broker: 'demo-sensor-broker', nl: false, rap: true, rh: 0, inputs: 0, x: 130, y: 100, wires: [[]] },
  ];
  const node = (id: string) => flow.find((n) => n.id === id);
  const wire = (from: string, port: number, to: string) => {
    const n = node(from);
    while (n.wires.length <= port) n.wires.push([]);
    n.wires[port].push(to);
  };
  const readingSources: string[] = [];

  if (has('genix-normalizer')) {
    flow.push(
      { id: 'demo-normalizer', type: 'genix-normalizer', z, name: 'normalize sensors', sensorIdFrom: 'auto', tsFormat: 'auto', skew: 'correct', maxFutureMs: 60000, maxPastMs: 604800000, plantId: 'demo-plant', plantIdType: 'str', lineId: 'line-1', lineIdType: 'str', assetId: '', assetIdType: 'str', tags: [{ key: 'source', value: 'mqtt-sim', type: 'str' }], values: [], rules: normalizerRules, output: 'batch', x: 340, y: 100, wires: [[], []] },
      { id: 'demo-invalid', type: 'debug', z, name: 'invalid sensor messages', active: true, tosidebar: true, console: false, complete: 'error', targetType: 'msg', statusVal: '', statusType: 'counter', x: 590, y: 160, wires: [] },
    );
    wire('demo-mqtt-in', 0, 'demo-normalizer');
    wire('demo-normalizer', 1, 'demo-invalid');
    readingSources.push('demo-normalizer');
  } else {
    flow.push({ id: 'demo-raw', type: 'debug', z, name: 'sensor messages', active: false, tosidebar: true, complete: 'payload', targetType: 'msg', x: 360, y: 100, wires: [] });
    wire('demo-mqtt-in', 0, 'demo-raw');
  }

  if (has('genix-opcua-endpoint') && has('genix-opcua-poller') && o.opcuaEndpointUrl) {
    const items: any[] = [];
    for (let l = 1; l <= o.lines; l++) {
      items.push({ nodeId: `ns=2;i=${l * 1000 + 1}`, sensorId: `PLC${l}-TEMP`, unit: 'degC' });
      items.push({ nodeId: `ns=2;i=${l * 1000 + 2}`, sensorId: `PLC${l}-PRES`, unit: 'bar' });
      items.push({ nodeId: `ns=2;i=${l * 1000 + 3}`, sensorId: `PLC${l}-SPEED`, unit: 'rpm' });
      items.push({ nodeId: `ns=2;i=${l * 1000 + 4}`, sensorId: `PLC${l}-VIB`, unit: 'mm/s' });
      items.push({ nodeId: `ns=2;i=${l * 1000 + 5}`, sensorId: `PLC${l}-RUN` });
    }
    flow.push(
      { id: 'demo-c2', type: 'comment', z, name: 'PLC tags (OPC-UA subscription)', info: 'One shared session to the simulated PLC; the poller subscribes to each line\'s temperature and pressure.', x: 190, y: 220, wires: [] },
      { id: 'demo-opcua-endpoint', type: 'genix-opcua-endpoint', name: 'simulated PLC', endpointUrl: o.opcuaEndpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false },
      { id: 'demo-opcua-poller', type: 'genix-opcua-poller', z, name: 'PLC tags', endpoint: 'demo-opcua-endpoint', mode: 'subscribe', intervalMs: o.rateMs, queueSize: 10, deadbandType: 'none', deadbandValue: 0, trigger: 'status-value', items, output: 'batch', x: 140, y: 260, wires: [[]] },
    );
    readingSources.push('demo-opcua-poller');
  }

  let bufferIn: string[] = [];
  if (has('genix-anomaly') && readingSources.length) {
    flow.push(
      { id: 'demo-anomaly', type: 'genix-anomaly', z, name: 'alarms', rules: demoAnomalyRules, store: '', saveEveryMs: 10000, sweepMs: 500, liveClock: true, x: 580, y: 100, wires: [[], []] },
      { id: 'demo-alarm-ack', type: 'inject', z, name: 'acknowledge all alarms', props: [{ p: 'command', v: 'ack', vt: 'str' }, { p: 'payload', v: '{"sensorId":"*"}', vt: 'json' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 370, y: 320, wires: [['demo-anomaly']] },
      { id: 'demo-alarm-shelve', type: 'inject', z, name: 'shelve VIB-* for 10 min', props: [{ p: 'command', v: 'shelve', vt: 'str' }, { p: 'payload', v: '{"sensorId":"VIB-*","durationMs":600000}', vt: 'json' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 370, y: 360, wires: [['demo-anomaly']] },
    );
    for (const s of readingSources) wire(s, 0, 'demo-anomaly');
    bufferIn = ['demo-anomaly'];
  } else {
    bufferIn = readingSources;
  }

  const cloudReady = has('genix-cloud-endpoint') && has('genix-cloud-publisher');
  if (cloudReady) {
    flow.push({ id: 'demo-cloud-endpoint', type: 'genix-cloud-endpoint', name: 'simulated cloud', protocol: 'mqtt', url: o.cloudBrokerUrl, clientId: '', protocolVersion: '4', keepalive: 30, cleanSession: true, stateTopic: 'plant/demo-plant/gateway/state', reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 2000 });
  }
  if (has('genix-store-forward') && cloudReady && bufferIn.length) {
    // The buffer batches its replay itself; the publisher sends each input as it comes (batchMaxMessages 1),
    // because merging inputs across messages can reorder a sensor's readings after a restart.
    flow.push(
      { id: 'demo-c3', type: 'comment', z, name: 'delivery loop: buffer ⇄ publisher', info: 'The buffer commits every message to SQLite before forwarding it; the publisher reports each delivery back on the feedback wire, and the buffer deletes what the cloud acknowledged.', x: 290, y: 440, wires: [] },
      { id: 'demo-buffer', type: 'genix-store-forward', z, name: 'readings buffer', dbPath: '', synchronous: 'FULL', maxMessages: 1000000, maxBytes: 1073741824, overflow: 'drop-oldest', ttlMs: 604800000, maxInFlight: 100, maxInFlightReadings: 20000, order: 'fifo', ackTimeoutMs: 10000, replayRate: 20000, replayBatchSize: 500, retryMinMs: 1000, retryMaxMs: 30000, storeProperties: '', metricsIntervalMs: 2000, x: 170, y: 500, wires: [['demo-publisher'], ['demo-buffer-metrics']] },
      { id: 'demo-buffer-metrics', type: 'debug', z, name: 'buffer metrics', active: false, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 420, y: 540, wires: [] },
      { id: 'demo-buffer-flush', type: 'inject', z, name: 'flush now', props: [{ p: 'command', v: 'flush', vt: 'str' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 150, y: 560, wires: [['demo-buffer']] },
      { id: 'demo-publisher', type: 'genix-cloud-publisher', z, name: 'to cloud', endpoint: 'demo-cloud-endpoint', topic: 'plant/{plantId}/{lineId}/{sensorId}', qos: 1, batchMaxMessages: 1, batchMaxMs: 0, batchMaxBytes: 131072, x: 420, y: 500, wires: [['demo-buffer']] },
    );
    for (const s of bufferIn) wire(s, 0, 'demo-buffer');
    if (has('genix-anomaly') && bufferIn[0] === 'demo-anomaly') {
      flow.push(
        { id: 'demo-alarm-buffer', type: 'genix-store-forward', z, name: 'alarms buffer', dbPath: '', synchronous: 'FULL', maxMessages: 100000, overflow: 'drop-oldest', ttlMs: 0, maxInFlight: 10, order: 'fifo', ackTimeoutMs: 10000, replayRate: 0, x: 170, y: 640, wires: [['demo-alarm-publisher'], []] },
        { id: 'demo-alarm-publisher', type: 'genix-cloud-publisher', z, name: 'alarms to cloud', endpoint: 'demo-cloud-endpoint', topic: 'plant/demo-plant/alarms/{sensorId}', qos: 1, batchMaxMessages: 1, batchMaxMs: 0, x: 430, y: 640, wires: [['demo-alarm-buffer']] },
        { id: 'demo-alarm-debug', type: 'debug', z, name: 'alarm events', active: true, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'counter', x: 820, y: 140, wires: [] },
      );
      wire('demo-anomaly', 1, 'demo-alarm-buffer');
      wire('demo-anomaly', 1, 'demo-alarm-debug');
    }
  }

  if (has('genix-sparkplug-out') && cloudReady && has('genix-anomaly') && node('demo-anomaly')) {
    // the same plant as a Sparkplug B edge node on the simulated cloud broker (spBv1.0/genix/…/genix-demo-gateway)
    flow.push(
      { id: 'demo-c-spb', type: 'comment', z, name: 'Sparkplug B edge node (spBv1.0/genix/…/genix-demo-gateway)', info: 'Readings and alarm events also leave as a Sparkplug B edge node on the simulated cloud broker: device = lineId, alarms on device `alarms`. Example 05 shows it with its own store-and-forward buffer; set a Primary host ID to publish only while an Ignition-style host is online.', x: 860, y: 440, wires: [] },
      { id: 'demo-sparkplug', type: 'genix-sparkplug-out', z, name: 'Sparkplug B', endpoint: 'demo-cloud-endpoint', group: 'genix', edgeNode: 'genix-demo-gateway', deviceField: 'lineId', defaultDevice: 'readings', alarmDevice: 'alarms', hostId: '', stateVersion: '3.0', x: 860, y: 500, wires: [[]] },
    );
    wire('demo-anomaly', 0, 'demo-sparkplug');
    wire('demo-anomaly', 1, 'demo-sparkplug');
  }

  if (o.dashboard) addDashboard(flow, z, readingSources.length ? (has('genix-anomaly') ? 'demo-anomaly' : readingSources[0]) : null, node('demo-anomaly') ? 'demo-anomaly' : null, node('demo-buffer') ? 'demo-buffer' : null, wire);
  layOut(flow, z);
  return flow;
}

/**
 * Where each node sits: left to right in the pipeline's order, one group per stage, as an
 * integrator would draw it. Only the feedback wires of the delivery loop run back, one column.
 */
const STAGES: Array<{ id: string; name: string; color: string; nodes: Array<[string, number, number]> }> = [
  { id: 'demo-g-sources', name: '1 · plant sources', color: '#d1e7f0', nodes: [['demo-c1', 170, 80], ['demo-mqtt-in', 150, 120], ['demo-c2', 190, 180], ['demo-opcua-poller', 150, 220]] },
  { id: 'demo-g-normalize', name: '2 · normalize', color: '#dff0d8', nodes: [['demo-normalizer', 470, 120], ['demo-raw', 470, 120], ['demo-invalid', 480, 180]] },
  { id: 'demo-g-detect', name: '3 · detect anomalies', color: '#fbe3d6', nodes: [['demo-anomaly', 780, 120], ['demo-alarm-ack', 790, 180], ['demo-alarm-shelve', 790, 220]] },
  { id: 'demo-g-store', name: '4 · store (SQLite)', color: '#fcf3cf', nodes: [['demo-c3', 1090, 80], ['demo-buffer', 1080, 120], ['demo-buffer-flush', 1080, 180], ['demo-alarm-buffer', 1080, 240]] },
  { id: 'demo-g-deliver', name: '5 · deliver to the cloud', color: '#e3e0f3', nodes: [['demo-publisher', 1360, 120], ['demo-buffer-metrics', 1370, 180], ['demo-alarm-publisher', 1360, 240], ['demo-alarm-debug', 1370, 300]] },
  { id: 'demo-g-dashboard', name: 'dashboard', color: '#eeeeee', nodes: [['demo-c4', 190, 400], ['demo-ui-feed', 190, 440], ['demo-ui-chart', 440, 440], ['demo-ui-alarms-fn', 190, 500], ['demo-ui-alarms', 440, 500], ['demo-ui-backlog-fn', 190, 560], ['demo-ui-backlog', 440, 560], ['demo-ui-backlog-text', 440, 600]] },
];

function layOut(flow: any[], z: string): void {
  const byId = new Map(flow.map((n) => [n.id, n]));
  for (const stage of STAGES) {
    const members = stage.nodes.filter(([id]) => byId.has(id));
    if (!members.length) continue;
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const [id, x, y] of members) {
      const n = byId.get(id);
      n.x = x; n.y = y; n.g = stage.id;
      const half = Math.max(50, 30 + 4.5 * String(n.name || n.type).length); // about the editor's label width
      x0 = Math.min(x0, x - half); x1 = Math.max(x1, x + half); y0 = Math.min(y0, y - 15); y1 = Math.max(y1, y + 15);
    }
    flow.push({ id: stage.id, type: 'group', z, name: stage.name, style: { label: true, fill: stage.color, 'fill-opacity': '0.5', stroke: '#999999' }, nodes: members.map(([id]) => id), x: Math.round(x0 - 20), y: Math.round(y0 - 40), w: Math.round(x1 - x0 + 40), h: Math.round(y1 - y0 + 60) });
  }
}

function addDashboard(flow: any[], z: string, readings: string | null, alarms: string | null, buffer: string | null, wire: (from: string, port: number, to: string) => void): void {
  const g = (id: string, name: string, order: number, width = 6) => ({ id, type: 'ui-group', name, page: 'demo-ui-page', width, height: 1, order, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' });
  flow.push(
    { id: 'demo-ui-base', type: 'ui-base', name: 'genix demo', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false, navigationStyle: 'default', titleBarStyle: 'default' },
    { id: 'demo-ui-theme', type: 'ui-theme', name: 'genix', colors: { surface: '#1f3a4d', primary: '#2a7ab0', bgPage: '#eef2f5', groupBg: '#ffffff', groupOutline: '#cfd8dc' }, sizes: { pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
    { id: 'demo-ui-page', type: 'ui-page', name: 'Plant', ui: 'demo-ui-base', path: '/plant', icon: 'factory', layout: 'grid', theme: 'demo-ui-theme', order: 1, className: '', visible: 'true', disabled: 'false' },
    g('demo-ui-g-readings', 'Live readings and limits', 1, 12),
    g('demo-ui-g-alarms', 'Active alarms', 2, 12),
    g('demo-ui-g-buffer', 'Store-and-forward backlog', 3, 12),
    { id: 'demo-c4', type: 'comment', z, name: 'dashboard at /dashboard', info: 'Live readings per line with their alarm limits, the active alarms, and the store-and-forward backlog.', x: 250, y: 720, wires: [] },
  );
  if (readings) {
    flow.push(
      { id: 'demo-ui-feed', type: 'function', z, name: 'chart feed (1 point/s)', func: chartFeed, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 200, y: 780, wires: [['demo-ui-chart']] },
      { id: 'demo-ui-chart', type: 'ui-chart', z, group: 'demo-ui-g-readings', name: 'temperatures', label: 'Temperatures (degC): line 1 sensors, PLC lines, limits', order: 1, chartType: 'line', category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', yAxisLabel: 'degC', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin: '', ymax: '', action: 'append', stackSeries: false, pointShape: 'false', pointRadius: 2, showLegend: true, removeOlder: 5, removeOlderUnit: '60', removeOlderPoints: '', colors: ['#0095FF', '#FF7F0E', '#2CA02C', '#A347E1', '#D62728', '#9467BD', '#FF0000', '#FF9896', '#C5B0D5'], textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 12, height: 6, className: '', interpolation: 'linear', x: 450, y: 780, wires: [[]] },
    );
    wire(readings, 0, 'demo-ui-feed');
  }
  if (alarms) {
    flow.push(
      { id: 'demo-ui-alarms-fn', type: 'function', z, name: 'active alarms', func: alarmTable, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 190, y: 840, wires: [['demo-ui-alarms']] },
      { id: 'demo-ui-alarms', type: 'ui-table', z, group: 'demo-ui-g-alarms', name: 'alarms', label: 'Active alarms', order: 1, width: 12, height: 0, maxrows: 0, passthru: false, autocols: true, showSearch: false, deselect: true, selectionType: 'none', columns: [], mobileBreakpoint: 'sm', mobileBreakpointType: 'defaults', action: 'replace', x: 410, y: 840, wires: [] },
    );
    wire(alarms, 1, 'demo-ui-alarms-fn');
  }
  if (buffer) {
    flow.push(
      { id: 'demo-ui-backlog-fn', type: 'function', z, name: 'backlog', func: backlogFeed, outputs: 2, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 180, y: 900, wires: [['demo-ui-backlog'], ['demo-ui-backlog-text']] },
      { id: 'demo-ui-backlog', type: 'ui-chart', z, group: 'demo-ui-g-buffer', name: 'backlog', label: 'Backlog (messages waiting for the cloud)', order: 1, chartType: 'line', category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', yAxisLabel: 'messages', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin: '0', ymax: '', action: 'append', stackSeries: false, pointShape: 'false', pointRadius: 2, showLegend: false, removeOlder: 10, removeOlderUnit: '60', removeOlderPoints: '', colors: ['#2a7ab0'], textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 8, height: 4, className: '', interpolation: 'linear', x: 420, y: 900, wires: [[]] },
      { id: 'demo-ui-backlog-text', type: 'ui-text', z, group: 'demo-ui-g-buffer', order: 2, width: 4, height: 1, name: 'buffer state', label: 'Buffer', format: '{{msg.payload}}', layout: 'col-center', style: false, font: '', fontSize: 16, color: '#717171', wrapText: true, className: '', value: 'payload', valueType: 'msg', x: 430, y: 940, wires: [] },
    );
    wire(buffer, 1, 'demo-ui-backlog-fn');
  }
}
