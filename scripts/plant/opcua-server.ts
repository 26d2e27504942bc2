/**
 * Simulated PLC: an in-process node-opcua server with plant tags, used by the OPC-UA tests,
 * the OPC-UA benchmark and the `npm start` demo.
 *
 *   const plant = await startPlantOpcuaServer({ port: 4840 });
 *   plant.endpointUrl   // "opc.tcp://127.0.0.1:4840/UA/genix-plant"
 *   plant.sessionCount()// sessions the server holds right now
 *   await plant.stop(); // shuts down and frees the port
 *
 * Options (all optional except port):
 *   port            TCP port (use freePort() in tests)
 *   lines           production lines, default 2
 *   rateMs          how often every tag changes, default 100
 *   extraItems      additional Double tags `Bench.<n>` at ns=2;i=100000+n whose value is a counter
 *                   incremented every rateMs (benchmark: gaps in the counter are lost values)
 *   securityModes   default [None, Sign, SignAndEncrypt]
 *   securityPolicies default [None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss]
 *   users           username/password pairs; when given, they are the only valid users
 *   allowAnonymous  default true
 *   pkiDir          server PKI folder (default: a shared folder under the OS temp dir, so the
 *                   server certificate is created once per machine)
 *   namespacesBefore namespace URIs registered before the plant namespace; each gets a decoy
 *                   variable at i=1001, so the plant namespace moves to index 2 + n (nsu= tests)
 *   timeoutMs       server-side channel timeout (how long a silent client keeps its channel)
 *   history         make every tag historizing (node-opcua's in-memory historian, HistoryRead
 *                   ReadRaw with continuation points); maxOnlineValues per tag, default 2000
 *   maxNodesPerHistoryReadData / maxNodesPerRead  the server's OperationLimits (node-opcua defaults)
 *
 * Tags per line L (1-based), namespace `urn:genix:plant` (index 2 unless namespacesBefore):
 *   i = L*1000 + 1  Line<L>.Temperature   degC   (AnalogItem, EURange 0..200)
 *   i = L*1000 + 2  Line<L>.Pressure      bar    (AnalogItem, EURange 0..10)
 *   i = L*1000 + 3  Line<L>.MotorSpeed    rpm    (AnalogItem, EURange 0..3000)
 *   i = L*1000 + 4  Line<L>.Vibration     mm/s   (AnalogItem, EURange 0..50)
 *   i = L*1000 + 5  Line<L>.Running       boolean
 * Browse path: Objects/Plant/Line<L>/<Tag>.
 */
import os from 'os';
import path from 'path';
import { OPCUAServer } from 'node-opcua-server';
import { MessageSecurityMode, SecurityPolicy, DataType, Variant, StatusCodes, ReadRawModifiedDetails, DataValue } from 'node-opcua-client';
import { VariableHistorian } from 'node-opcua-address-space';
import { loadCertificateManagerClass } from '../../nodes/lib/opcua/pki';

export const PLANT_NAMESPACE_URI = 'urn:genix:plant';

export interface PlantOpcuaOptions {
  port: number;
  lines?: number;
  rateMs?: number;
  extraItems?: number;
  securityModes?: Array<'None' | 'Sign' | 'SignAndEncrypt'>;
  securityPolicies?: Array<'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss'>;
  users?: Array<{ username: string; password: string }>;
  allowAnonymous?: boolean;
  pkiDir?: string;
  namespacesBefore?: string[];
  timeoutMs?: number;
  history?: boolean | { maxOnlineValues?: number };
  maxNodesPerHistoryReadData?: number;
  maxNodesPerRead?: number;
}

/** one value as the server's historian recorded it */
export interface RecordedValue { ts: number; value: unknown; statusCode: string }

export interface PlantOpcuaServer {
  endpointUrl: string;
  port: number;
  server: OPCUAServer;
  /** namespace index of the plant tags on this server */
  plantNamespaceIndex: number;
  stop(): Promise<void>;
  sessionCount(): number;
  /** the tick counter that the Bench.<n> tags carry */
  tick(): number;
  /** what the server's historian holds for a tag ("ns=2;i=1001") with from <= ts <= to (history option) */
  recorded(nodeId: string, from: number, to: number): Promise<RecordedValue[]>;
}

const TAGS = [
  { name: 'Temperature', unit: 'degC', low: 0, high: 200, base: 60, amp: 5 },
  { name: 'Pressure', unit: 'bar', low: 0, high: 10, base: 4, amp: 0.5 },
  { name: 'MotorSpeed', unit: 'rpm', low: 0, high: 3000, base: 1450, amp: 30 },
  { name: 'Vibration', unit: 'mm/s', low: 0, high: 50, base: 2.5, amp: 0.8 },
];

export async function startPlantOpcuaServer(opts: PlantOpcuaOptions): Promise<PlantOpcuaServer> {
  const lines = opts.lines ?? 2;
  const rateMs = opts.rateMs ?? 100;
  const pkiDir = opts.pkiDir ?? path.join(os.tmpdir(), 'genix-opcua-plant-pki');
  const CertificateManager = loadCertificateManagerClass();
  const serverCertificateManager = new CertificateManager({
    rootFolder: pkiDir,
    automaticallyAcceptUnknownCertificate: true,
    disableFileWatchers: true,
  });
  await serverCertificateManager.initialize();
  const users = opts.users;
  const server = new OPCUAServer({
    port: opts.port,
    hostname: '127.0.0.1',
    alternateHostname: [],
    resourcePath: '/UA/genix-plant',
    serverCertificateManager,
    userCertificateManager: serverCertificateManager,
    securityModes: (opts.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => MessageSecurityMode[m]),
    securityPolicies: (opts.securityPolicies ?? ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])
      .map((p) => (SecurityPolicy as any)[p]),
    allowAnonymous: opts.allowAnonymous ?? true,
    userManager: users ? { isValidUser: (u: string, p: string) => users.some((x) => x.username === u && x.password === p) } : undefined,
    serverCapabilities: {
      maxSessions: 1000,
      operationLimits: {
        ...(opts.maxNodesPerHistoryReadData ? { maxNodesPerHistoryReadData: opts.maxNodesPerHistoryReadData } : {}),
        ...(opts.maxNodesPerRead ? { maxNodesPerRead: opts.maxNodesPerRead } : {}),
      },
    },
    maxConnectionsPerEndpoint: 1000,
    timeout: opts.timeoutMs,
    disableDiscovery: true,
    buildInfo: { productName: 'genix simulated plant', manufacturerName: 'genix' },
  } as any);
  await server.initialize();

  const addressSpace = server.engine.addressSpace!;
  for (const uri of opts.namespacesBefore ?? []) {
    const decoyNs = addressSpace.registerNamespace(uri);
    (decoyNs as any)._nodeIdManager._internal_id_counter = 1_000_000;
    decoyNs.addVariable({
      organizedBy: addressSpace.rootFolder.objects,
      browseName: `Decoy${decoyNs.index}`,
      nodeId: 'i=1001',
      dataType: 'Double',
      value: { dataType: DataType.Double, value: -1 },
    });
  }
  const ns = addressSpace.registerNamespace(PLANT_NAMESPACE_URI);
  // automatic ids (EURange and EngineeringUnits properties) start at 1000 and would take i=1001
  (ns as any)._nodeIdManager._internal_id_counter = 1_000_000;
  const historians = new Map<string, VariableHistorian>();
  const maxOnlineValues = typeof opts.history === 'object' ? opts.history.maxOnlineValues ?? 2000 : 2000;
  const historize = (v: any) => {
    if (!opts.history) return;
    const historian = new VariableHistorian(v, { maxOnlineValues });
    addressSpace.installHistoricalDataNode(v, { historian });
    historians.set(v.nodeId.toString(), historian);
  };
  const plantFolder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Plant', nodeId: 's=Plant' });
  const updaters: Array<(t: number) => void> = [];
  for (let L = 1; L <= lines; L++) {
    const lineFolder = ns.addFolder(plantFolder, { browseName: `Line${L}`, nodeId: `s=Line${L}` });
    TAGS.forEach((tag, k) => {
      const v = ns.addAnalogDataItem({
        organizedBy: lineFolder,
        browseName: `Line${L}.${tag.name}`,
        displayName: `Line${L}.${tag.name}`,
        nodeId: `i=${L * 1000 + k + 1}`,
        dataType: 'Double',
        engineeringUnitsRange: { low: tag.low, high: tag.high },
        engineeringUnits: { displayName: { text: tag.unit }, description: { text: tag.unit } } as any,
        minimumSamplingInterval: 0,
        value: { dataType: DataType.Double, value: tag.base } as any,
      } as any);
      historize(v);
      const phase = L * 0.7 + k;
      updaters.push((t) => {
        const value = tag.base + tag.amp * Math.sin(t / 20 + phase) + (Math.random() - 0.5) * tag.amp * 0.1;
        v.setValueFromSource(new Variant({ dataType: DataType.Double, value }), StatusCodes.Good);
      });
    });
    const running = ns.addVariable({
      organizedBy: lineFolder,
      browseName: `Line${L}.Running`,
      displayName: `Line${L}.Running`,
      nodeId: `i=${L * 1000 + 5}`,
      dataType: 'Boolean',
      minimumSamplingInterval: 0,
      value: { dataType: DataType.Boolean, value: true } as any,
    } as any);
    historize(running);
    updaters.push((t) => {
      // a short stop every 60 s of simulated time gives discrete tags something to report
      const value = (t % 600) < 570;
      running.setValueFromSource(new Variant({ dataType: DataType.Boolean, value }), StatusCodes.Good);
    });
  }
  const extra = opts.extraItems ?? 0;
  if (extra > 0) {
    const benchFolder = ns.addFolder(plantFolder, { browseName: 'Bench', nodeId: 's=Bench' });
    const vars: any[] = [];
    for (let n = 0; n < extra; n++) {
      vars.push(ns.addVariable({
        organizedBy: benchFolder,
        browseName: `Bench.${n}`,
        nodeId: `i=${100000 + n}`,
        dataType: 'Double',
        minimumSamplingInterval: 0,
        value: { dataType: DataType.Double, value: 0 } as any,
      } as any));
      historize(vars[n]);
    }
    updaters.push((t) => {
      for (const v of vars) v.setValueFromSource(new Variant({ dataType: DataType.Double, value: t }), StatusCodes.Good);
    });
  }

  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const u of updaters) u(tick);
  }, rateMs);
  timer.unref();

  await server.start();
  const endpointUrl = `opc.tcp://127.0.0.1:${opts.port}/UA/genix-plant`;
  let stopped = false;
  return {
    endpointUrl,
    port: opts.port,
    server,
    plantNamespaceIndex: ns.index,
    sessionCount: () => server.engine.currentSessionCount,
    tick: () => tick,
    recorded: (nodeId, from, to) => new Promise((resolve, reject) => {
      const h = historians.get(nodeId);
      if (!h) { reject(new Error(`${nodeId} is not historizing`)); return; }
      const details = new ReadRawModifiedDetails({ isReadModified: false, startTime: new Date(from), endTime: new Date(to) });
      h.extractDataValues(details, 0, false, false, (err: Error | null, dvs?: DataValue[]) => {
        if (err) { reject(err); return; }
        resolve((dvs ?? []).map((dv) => ({ ts: dv.sourceTimestamp!.getTime(), value: dv.value.value, statusCode: dv.statusCode.name })));
      });
    }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await server.shutdown(0);
      await serverCertificateManager.dispose();
    },
  };
}
