// Sparkplug B in: payloads from the stock `mqtt in` node (a Buffer on an spBv1.0/... topic) → one item per metric,
// in the shape the normalizing core reads ({ sensorId, value, ts, quality, unit, tags }); aliases resolved from
// the births seen. DATA before its BIRTH is rejected (and may ask the edge node for a rebirth).
import { decode, encode, qualityOf, UMetric } from '../sparkplug/codec';
import { BDSEQ, REBIRTH } from '../sparkplug/edge-node';
import { parseTopic, SparkplugTopic, topicOf } from '../sparkplug/topics';
import type { InvalidEntry } from './invalid';

export interface SparkplugItem {
  sensorId: string;
  value: number | boolean | string;
  ts: number;
  quality: 'good' | 'uncertain' | 'bad';
  unit?: string;
  tags: Record<string, string>;
}

/** A ready NCMD message (msg.topic + msg.payload) asking an edge node to publish its births again. */
export interface RebirthRequest { topic: string; payload: Buffer; edgeNode: string }

export interface SparkplugResult {
  items: SparkplugItem[];
  errors: InvalidEntry[] | null;
  rebirth?: RebirthRequest;
}

const MAX_EDGE_NODES = 10000;
/** one rebirth request per edge node at most this often, so a flood of orphan DATA asks once */
const REBIRTH_EVERY_MS = 10000;

export function isSparkplug(topic: unknown, payload: unknown): payload is Buffer | string {
  return (Buffer.isBuffer(payload) || typeof payload === 'string') && typeof topic === 'string' && topic.startsWith('spBv1.0/') && !topic.startsWith('spBv1.0/STATE/');
}

/**
 * The payload's bytes: `mqtt in` with output "auto-detect" hands over a protobuf payload that happens to be valid
 * UTF-8 as a string, and only then, so encoding it back as UTF-8 gives the original bytes.
 */
export function sparkplugBytes(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

interface Birth { aliases: Map<number, string>; units: Map<string, string> }

export class SparkplugReader {
  /** per edge node (group/edge): births of the node ('') and of each device */
  private readonly edges = new Map<string, Map<string, Birth>>();
  private readonly asked = new Map<string, number>();

  constructor(private readonly requestRebirth = false) {}

  read(topic: string, payload: Buffer, arrival: number): SparkplugResult {
    const t = parseTopic(topic);
    if (!t) return { items: [], errors: [{ code: 'unsupported_payload', message: `"${topic}" is not a Sparkplug B topic (spBv1.0/<group>/<type>/<edge node>[/<device>])` }] };
    if (t.type === 'NCMD' || t.type === 'DCMD') return { items: [], errors: null };
    let p;
    try {
      p = decode(payload);
    } catch (err) {
      return { items: [], errors: [{ code: 'malformed_payload', message: `not a Sparkplug B payload on ${topic}: ${(err as Error).message}` }] };
    }
    const edgeKey = `${t.group}/${t.edgeNode}`;
    const device = t.device ?? '';
    if (t.type === 'NDEATH') {
      this.edges.delete(edgeKey);
      return { items: [], errors: null };
    }
    if (t.type === 'DDEATH') {
      this.edges.get(edgeKey)?.delete(device);
      return { items: [], errors: null };
    }
    let births = this.edges.get(edgeKey);
    if (t.type === 'NBIRTH') {
      if (!births && this.edges.size >= MAX_EDGE_NODES) return { items: [], errors: [{ code: 'too_many', message: `more than ${MAX_EDGE_NODES} Sparkplug edge nodes seen` }] };
      births = new Map();
      this.edges.set(edgeKey, births);
    }
    if (t.type === 'DBIRTH' && births) births.set(device, { aliases: new Map(), units: new Map() });
    const birth = births?.get(t.type === 'NBIRTH' ? '' : device);
    if (t.type === 'NBIRTH') births?.set('', { aliases: new Map(), units: new Map() });
    const known = t.type === 'NBIRTH' ? births?.get('') : birth;
    if (!known) {
      const what = t.type === 'DBIRTH' ? `a DBIRTH of ${device} before the NBIRTH of ${t.edgeNode}` : `${t.type} on ${topic} before its ${t.device ? 'DBIRTH' : 'NBIRTH'}`;
      const r: SparkplugResult = { items: [], errors: [{ code: 'no_birth', message: `${what}: its metric aliases are unknown (the normalizer has not seen the birth since it started); ask the edge node for a rebirth` }] };
      const req = this.rebirthFor(t, arrival);
      if (req) r.rebirth = req;
      return r;
    }
    const birthMsg = t.type === 'NBIRTH' || t.type === 'DBIRTH';
    const sensorPrefix = t.device ?? t.edgeNode;
    const tags: Record<string, string> = { spGroup: t.group, spEdgeNode: t.edgeNode };
    if (t.device) tags.spDevice = t.device;
    const items: SparkplugItem[] = [];
    let errors: InvalidEntry[] | null = null;
    const fallbackTs = p.timestamp ?? arrival;
    (p.metrics ?? []).forEach((m: UMetric, index: number) => {
      const alias = m.alias ?? undefined;
      let name = m.name ?? undefined;
      if (birthMsg && name && alias !== undefined) known.aliases.set(alias, name);
      const unit = typeof (m.properties as any)?.engUnit?.value === 'string' ? String((m.properties as any).engUnit.value) : undefined;
      if (birthMsg && name && unit) known.units.set(name, unit);
      if (!name && alias !== undefined) name = known.aliases.get(alias);
      if (!name) {
        (errors ??= []).push({ code: 'no_birth', index, message: `metric alias ${alias} on ${topic} is not in the birth certificate` });
        return;
      }
      // the node's own bookkeeping is not plant data
      if (name === BDSEQ || name.startsWith('Node Control/')) return;
      if (m.isNull || m.value === null || m.value === undefined) return;
      const v = m.value;
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') {
        (errors ??= []).push({ code: 'unsupported_payload', index, sensorId: `${sensorPrefix}/${name}`, message: `metric ${name} is a ${m.type}: only numbers, booleans and text become readings` });
        return;
      }
      const q = (m.properties as any)?.Quality?.value;
      const item: SparkplugItem = { sensorId: `${sensorPrefix}/${name}`, value: v, ts: m.timestamp ?? fallbackTs, quality: qualityOf(typeof q === 'number' ? q : undefined), tags: m.isHistorical ? { ...tags, historical: 'true' } : tags };
      const u = unit ?? known.units.get(name);
      if (u) item.unit = u;
      items.push(item);
    });
    return { items, errors };
  }

  private rebirthFor(t: SparkplugTopic, now: number): RebirthRequest | undefined {
    if (!this.requestRebirth) return undefined;
    const key = `${t.group}/${t.edgeNode}`;
    const last = this.asked.get(key);
    if (last !== undefined && now - last < REBIRTH_EVERY_MS) return undefined;
    if (this.asked.size >= MAX_EDGE_NODES) this.asked.clear();
    this.asked.set(key, now);
    const payload = encode({ timestamp: now, metrics: [{ name: REBIRTH, type: 'Boolean', value: true }] });
    return { topic: topicOf({ group: t.group, type: 'NCMD', edgeNode: t.edgeNode }), payload, edgeNode: t.edgeNode };
  }
}
