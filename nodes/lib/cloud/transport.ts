// What a publisher needs from an endpoint, whichever protocol carries the readings.
import type { SendResult } from './errors';

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Something the status should say beyond the link state ('' = nothing). */
export type Problem = '' | 'takeover' | 'unresponsive' | 'maxQos';

/** How readings are framed in one message body: a JSON array, or newline-delimited JSON. */
export type Framing = 'json' | 'ndjson';

export interface Transport {
  readonly kind: 'mqtt' | 'http' | 'pubsub';
  readonly framing: Framing;
  readonly state: LinkState;
  readonly problem: Problem;
  /** A refusal to answer at once (e.g. disconnected), or null when a send may go ahead. */
  refusal(): SendResult | null;
  /** Largest body the far end takes for `topic` (0: no limit, -1: not even an empty one). */
  bodyLimit(topic: string): number;
  /**
   * Sends one message body; `cb` is called exactly once, ok only once the far end acknowledged it.
   * `mergeLimit` set: the body is JSON readings that may leave merged with others for the same topic
   * into one array of at most that many bytes (0 = no limit of ours) while the link is busy.
   */
  send(topic: string, body: string | Buffer, qos: 0 | 1, cb: (r: SendResult) => void, mergeLimit?: number): void;
  on(event: 'state', listener: (state: LinkState, detail?: string) => void): this;
  off(event: 'state', listener: (state: LinkState, detail?: string) => void): this;
}
