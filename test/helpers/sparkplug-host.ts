// A small Sparkplug B primary host for tests: decodes births and data with sparkplug-payload, resolves aliases,
// tracks seq and bdSeq per edge node, records every protocol violation it sees, and publishes its STATE.
import mqtt, { MqttClient } from 'mqtt';
import { get } from 'sparkplug-payload';

const spb = get('spBv1.0') as NonNullable<ReturnType<typeof get>>;

const n = (v: any): number | undefined => (v === null || v === undefined ? undefined : typeof v === 'number' ? v : v.toNumber());

export interface HostMetric { name: string; value: unknown; ts?: number; historical: boolean; quality?: number }
export interface HostMessage { type: string; edgeNode: string; device?: string; seq?: number; bdSeq?: number; metrics: HostMetric[] }

interface EdgeState { born: boolean; bdSeq?: number; seq?: number; devices: Map<string, Map<number, string>> }

export class SparkplugHost {
  readonly log: HostMessage[] = [];
  /** protocol violations: seq gaps, a DBIRTH before its NBIRTH, data before its birth, unknown aliases */
  readonly violations: string[] = [];
  private readonly edges = new Map<string, EdgeState>();
  private online: boolean | null = null;
  private constructor(readonly client: MqttClient, readonly hostId: string, readonly version: '3.0' | '2.2') {}

  static async start(url: string, hostId = 'scada', version: '3.0' | '2.2' = '3.0', online = true): Promise<SparkplugHost> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 50, clientId: `host-${hostId}-${process.pid}-${Math.random().toString(16).slice(2, 8)}` });
    const host = new SparkplugHost(client, hostId, version);
    client.on('message', (topic, payload) => host.onMessage(topic, payload));
    // a broker without persistence forgets the retained STATE: say it again after every reconnect, as hosts do
    client.on('connect', () => { if (host.online !== null) void host.setOnline(host.online).catch(() => undefined); });
    await client.subscribeAsync('spBv1.0/+/+/#', { qos: 1 });
    if (online !== undefined) await host.setOnline(online);
    return host;
  }

  get stateTopic(): string {
    return this.version === '2.2' ? `STATE/${this.hostId}` : `spBv1.0/STATE/${this.hostId}`;
  }

  async setOnline(online: boolean): Promise<void> {
    this.online = online;
    const payload = this.version === '2.2' ? (online ? 'ONLINE' : 'OFFLINE') : JSON.stringify({ online, timestamp: Date.now() });
    await this.client.publishAsync(this.stateTopic, payload, { qos: 1, retain: true });
  }

  async rebirth(group: string, edgeNode: string): Promise<void> {
    const payload = Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }));
    await this.client.publishAsync(`spBv1.0/${group}/NCMD/${edgeNode}`, payload, { qos: 1 });
  }

  private onMessage(topic: string, payload: Buffer) {
    const parts = topic.split('/');
    if (parts[1] === 'STATE' || parts.length < 4) return;
    const [, , type, edgeNode, device] = parts;
    if (type === 'NCMD' || type === 'DCMD') return;
    const p = spb.decodePayload(payload);
    const msg: HostMessage = { type, edgeNode, device, seq: n(p.seq), metrics: [] };
    let e = this.edges.get(edgeNode);
    if (!e) this.edges.set(edgeNode, (e = { born: false, devices: new Map() }));
    const bd = (p.metrics ?? []).find((m) => m.name === 'bdSeq');
    if (bd) msg.bdSeq = n(bd.value);
    if (type === 'NDEATH') {
      // a will of an older session (other bdSeq) does not kill the current one
      if (msg.bdSeq === e.bdSeq) e.born = false;
      this.log.push(msg);
      return;
    }
    if (type === 'NBIRTH') {
      e.born = true;
      e.bdSeq = msg.bdSeq;
      e.seq = msg.seq;
      e.devices.clear();
      if (msg.seq !== 0) this.violations.push(`NBIRTH with seq ${msg.seq}`);
    } else {
      if (!e.born) this.violations.push(`${type} ${device ?? ''} before NBIRTH`);
      const want = ((e.seq ?? -1) + 1) % 256;
      if (msg.seq !== want) this.violations.push(`seq gap: ${type} ${device ?? ''} has seq ${msg.seq}, expected ${want}`);
      e.seq = msg.seq;
    }
    if (type === 'DBIRTH') e.devices.set(device as string, new Map());
    const aliases = device ? e.devices.get(device) : undefined;
    if (type === 'DDATA' && !aliases) this.violations.push(`DDATA for ${device} before its DBIRTH`);
    for (const m of p.metrics ?? []) {
      let name = m.name ?? undefined;
      const alias = n(m.alias);
      if (type === 'DBIRTH' && alias !== undefined && name) aliases?.set(alias, name);
      if (!name && alias !== undefined) name = aliases?.get(alias);
      if (!name) this.violations.push(`${type} ${device}: unknown alias ${alias}`);
      const q = (m.properties as any)?.Quality?.value;
      msg.metrics.push({ name: name ?? `?${alias}`, value: m.isNull ? null : (typeof m.value === 'object' && m.value !== null ? n(m.value) : m.value), ts: n(m.timestamp), historical: !!m.isHistorical, quality: q });
    }
    this.log.push(msg);
  }

  /** Every DDATA value of a device metric, in arrival order. */
  data(device: string, metric: string): HostMetric[] {
    return this.log.filter((m) => m.type === 'DDATA' && m.device === device).flatMap((m) => m.metrics.filter((x) => x.name === metric));
  }

  types(): string[] {
    return this.log.map((m) => (m.device ? `${m.type}:${m.device}` : m.type));
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}
