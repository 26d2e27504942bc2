// NodeId text as users write it (ns=2;i=1001, ns=2;s=Line1.Temp, nsu=<uri>;s=...), parsed once
// and resolved against the server's namespace array after every connect.

export type IdentifierType = 'i' | 's' | 'g' | 'b';

export interface ParsedNodeId {
  /** the text the user wrote, trimmed */
  text: string;
  /** namespace index (ns=) or undefined when given by URI */
  ns?: number;
  /** namespace URI (nsu=) */
  nsu?: string;
  idType: IdentifierType;
  id: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Parses NodeId text; throws an Error whose message says what is wrong. */
export function parseNodeId(input: unknown): ParsedNodeId {
  if (typeof input !== 'string' || input.trim() === '') throw new Error('nodeId is empty');
  const text = input.trim();
  let rest = text;
  let ns: number | undefined;
  let nsu: string | undefined;
  const nsMatch = /^ns=(\d+);/.exec(rest);
  if (nsMatch) {
    ns = Number(nsMatch[1]);
    if (ns > 65535) throw new Error(`namespace index out of range in "${text}"`);
    rest = rest.slice(nsMatch[0].length);
  } else if (rest.startsWith('nsu=')) {
    const semi = rest.indexOf(';');
    if (semi < 0) throw new Error(`"${text}" has nsu= but no identifier (expected nsu=<uri>;s=...)`);
    nsu = rest.slice(4, semi);
    if (!nsu) throw new Error(`empty namespace URI in "${text}"`);
    rest = rest.slice(semi + 1);
  }
  const m = /^([isgb])=([\s\S]+)$/.exec(rest);
  if (!m) throw new Error(`"${text}" is not a NodeId (expected ns=<index>;i=<number> or ns=<index>;s=<name> or nsu=<uri>;s=<name>)`);
  const idType = m[1] as IdentifierType;
  const id = m[2];
  if (idType === 'i' && !/^\d+$/.test(id)) throw new Error(`numeric identifier expected in "${text}"`);
  if (idType === 'i' && Number(id) > 0xffffffff) throw new Error(`numeric identifier out of range in "${text}"`);
  if (idType === 'g' && !GUID.test(id)) throw new Error(`GUID identifier expected in "${text}"`);
  if (idType === 'b' && !/^[A-Za-z0-9+/=]+$/.test(id)) throw new Error(`base64 identifier expected in "${text}"`);
  return { text, ns: ns ?? (nsu === undefined ? 0 : undefined), nsu, idType, id };
}

/** The ns=<index> form node-opcua understands, given the server's namespace array. */
export function resolveNodeId(p: ParsedNodeId, namespaceArray: readonly string[]): string {
  let ns = p.ns;
  if (p.nsu !== undefined) {
    const idx = namespaceArray.indexOf(p.nsu);
    if (idx < 0) throw new Error(`namespace "${p.nsu}" of "${p.text}" is not on the server`);
    ns = idx;
  }
  return `ns=${ns};${p.idType}=${p.id}`;
}

/** A short name for a reading when the item has no sensorId: the identifier for strings, else the text. */
export function defaultSensorId(p: ParsedNodeId): string {
  return p.idType === 's' ? p.id : p.text;
}
