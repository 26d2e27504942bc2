// How a message is stored: topic, payload as JSON text (Buffers as raw bytes) and listed extra properties.

export interface EncodedMessage {
  topic: string | null;
  /** JSON text, raw bytes for a Buffer payload, null when the message had no payload */
  payload: string | Buffer | null;
  /** JSON object of the extra properties, or null */
  extra: string | null;
  /** bytes this message counts against maxBytes */
  size: number;
}

export interface DecodedMessage {
  topic?: string;
  payload?: unknown;
  extra?: Record<string, unknown>;
}

export class EncodeError extends Error {}

/** Encodes the stored parts of a message; throws EncodeError when they cannot be stored. */
export function encodeMessage(msg: Record<string, any>, storeProperties: string[]): EncodedMessage {
  const topic = msg.topic === undefined || msg.topic === null ? null : String(msg.topic);
  let payload: string | Buffer | null;
  const p = msg.payload;
  if (p === undefined) payload = null;
  else if (Buffer.isBuffer(p)) payload = p;
  else {
    let text: string | undefined;
    try {
      text = JSON.stringify(p);
    } catch (err: any) {
      throw new EncodeError(`payload cannot be stored as JSON: ${err && err.message ? err.message : err}`);
    }
    if (text === undefined) throw new EncodeError(`payload of type ${typeof p} cannot be stored as JSON`);
    payload = text;
  }
  let extra: string | null = null;
  if (storeProperties.length) {
    const obj: Record<string, unknown> = {};
    let any = false;
    for (const k of storeProperties) {
      if (msg[k] !== undefined) {
        obj[k] = msg[k];
        any = true;
      }
    }
    if (any) {
      try {
        extra = JSON.stringify(obj);
      } catch (err: any) {
        throw new EncodeError(`property cannot be stored as JSON: ${err && err.message ? err.message : err}`);
      }
    }
  }
  // String length approximates bytes closely enough for limits; exact byte counts would cost a scan per message.
  const size = (topic ? topic.length : 0) + (payload === null ? 0 : payload.length) + (extra ? extra.length : 0) + 16;
  return { topic, payload, extra, size };
}

export function decodePayload(payload: string | Buffer | null): unknown {
  if (payload === null || payload === undefined) return undefined;
  if (typeof payload === 'string') return JSON.parse(payload);
  return payload;
}

export function decodeExtra(extra: string | null): Record<string, unknown> | undefined {
  return extra ? JSON.parse(extra) : undefined;
}
