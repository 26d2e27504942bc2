// What an MQTT 5 broker allows, read from its CONNACK. An MQTT 3.1.1 broker states nothing: no limits.

export interface BrokerLimits {
  /** largest packet the broker takes, header included; 0 = no limit stated */
  maxPacketSize: number;
  maxQos: 0 | 1 | 2;
  retainAvailable: boolean;
  /** QoS 1 publishes the broker lets us keep unacknowledged */
  receiveMaximum: number;
  /** topic aliases the broker accepts from us (0 = none) */
  topicAliasMaximum: number;
  /** the broker still had our session (clean session off) */
  sessionPresent: boolean;
}

export const NO_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxPacketSize: 0,
  maxQos: 2,
  retainAvailable: true,
  receiveMaximum: 65535,
  topicAliasMaximum: 0,
  sessionPresent: false,
});

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

export function limitsFromConnack(connack: unknown): BrokerLimits {
  const c = (connack ?? {}) as { sessionPresent?: boolean; properties?: Record<string, unknown> };
  const p = c.properties ?? {};
  const q = p.maximumQoS;
  return {
    maxPacketSize: positive(p.maximumPacketSize) ?? 0,
    maxQos: q === 0 ? 0 : q === 1 ? 1 : 2,
    // the property is a byte on the wire: 0 means "not available", absent means available
    retainAvailable: !(p.retainAvailable === false || p.retainAvailable === 0),
    receiveMaximum: positive(p.receiveMaximum) ?? 65535,
    topicAliasMaximum: positive(p.topicAliasMaximum) ?? 0,
    sessionPresent: !!c.sessionPresent,
  };
}

/**
 * Largest payload a QoS 1 PUBLISH to `topic` can carry within the broker's maximum packet size
 * (0 = no limit; -1 = not even an empty payload fits). Counts the worst case of every header field.
 */
export function payloadLimit(maxPacketSize: number, topic: string, v5: boolean): number {
  if (!maxPacketSize) return 0;
  // fixed header 1 + remaining length up to 4 + topic length 2 + topic + packet id 2 + (v5) property length 1 + topic alias 3
  const overhead = 1 + 4 + 2 + Buffer.byteLength(topic) + 2 + (v5 ? 4 : 0);
  const room = maxPacketSize - overhead;
  return room > 0 ? room : -1;
}
