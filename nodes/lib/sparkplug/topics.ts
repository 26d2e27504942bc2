// Sparkplug B topic namespace (spBv1.0/<group>/<type>/<edge node>[/<device>]) and primary host STATE topics.

export const NAMESPACE = 'spBv1.0';

export type MessageType = 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH' | 'NDATA' | 'DDATA' | 'NCMD' | 'DCMD';
const TYPES = new Set<string>(['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD']);

/** Which STATE convention the primary host speaks: 3.0 (spBv1.0/STATE/<id>, JSON) or 2.2 (STATE/<id>, ONLINE/OFFLINE text). */
export type StateVersion = '3.0' | '2.2';

export interface SparkplugTopic {
  group: string;
  type: MessageType;
  edgeNode: string;
  device?: string;
}

// Sparkplug forbids MQTT wildcards and the level separator inside an id
const BAD_ID = /[/+#]/;

/** Why an id (group, edge node, device, host) cannot be used in a topic, or '' when it can. */
export function idProblem(what: string, id: string): string {
  if (!id) return `${what} is empty`;
  if (BAD_ID.test(id)) return `${what} "${id}" contains "/", "+" or "#", which Sparkplug does not allow in an id`;
  return '';
}

/** A device id made from any text: the forbidden characters become "_". */
export function safeId(text: string): string {
  return text.replace(/[/+#]/g, '_');
}

export function topicOf(t: SparkplugTopic): string {
  return `${NAMESPACE}/${t.group}/${t.type}/${t.edgeNode}${t.device !== undefined ? `/${t.device}` : ''}`;
}

/** Parses spBv1.0/<group>/<type>/<edge node>[/<device>]; null for anything else (STATE included). */
export function parseTopic(topic: unknown): SparkplugTopic | null {
  if (typeof topic !== 'string' || !topic.startsWith(`${NAMESPACE}/`)) return null;
  const parts = topic.split('/');
  if (parts.length !== 4 && parts.length !== 5) return null;
  const [, group, type, edgeNode, device] = parts;
  if (!TYPES.has(type) || !group || !edgeNode || device === '') return null;
  return device === undefined ? { group, type: type as MessageType, edgeNode } : { group, type: type as MessageType, edgeNode, device };
}

export function stateTopic(hostId: string, version: StateVersion): string {
  return version === '2.2' ? `STATE/${hostId}` : `${NAMESPACE}/STATE/${hostId}`;
}

/**
 * The host's state from a STATE payload (timestamp: 3.0 only), or null when it is not a STATE payload of that version.
 */
export function parseState(payload: Buffer | string, version: StateVersion): { online: boolean; timestamp?: number } | null {
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim();
  if (version === '2.2') {
    if (text === 'ONLINE') return { online: true };
    if (text === 'OFFLINE') return { online: false };
    return null;
  }
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== 'object' || typeof v.online !== 'boolean') return null;
    return typeof v.timestamp === 'number' && Number.isFinite(v.timestamp) ? { online: v.online, timestamp: v.timestamp } : { online: v.online };
  } catch {
    return null;
  }
}

/** The STATE payload a host publishes (used by tests and the demo host). */
export function statePayload(online: boolean, version: StateVersion, timestamp = Date.now()): string {
  return version === '2.2' ? (online ? 'ONLINE' : 'OFFLINE') : JSON.stringify({ online, timestamp });
}
