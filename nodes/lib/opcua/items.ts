// Poller items as saved in the flow, or pasted by the user as CSV lines.
import type { ItemSpec } from './item-group';

/** Items from the saved array, or from pasted CSV/lines: nodeId[,sensorId[,unit]]. */
export function itemsFrom(raw: unknown): ItemSpec[] {
  if (Array.isArray(raw)) return raw.filter((x) => x && typeof x === 'object').map((x: any) => ({ nodeId: String(x.nodeId ?? ''), sensorId: x.sensorId || undefined, unit: x.unit || undefined }));
  if (typeof raw !== 'string') return [];
  const text = raw.trim();
  if (text.startsWith('[')) {
    try { return itemsFrom(JSON.parse(text)); } catch { /* fall through to CSV */ }
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^nodeId\b/i.test(l)).map((l) => {
    // nsu= URIs may contain commas only if quoted; a NodeId never contains a semicolon after its identifier
    const [nodeId, sensorId, unit] = l.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    return { nodeId, sensorId: sensorId || undefined, unit: unit || undefined };
  });
}
