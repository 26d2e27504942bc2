// One poller's items as the session manager tracks them: parsed NodeIds, last value and quality,
// the live subscription or poll timer, and the counters shown in the poller's status.
import type { ClientSubscription, ClientMonitoredItemGroup } from 'node-opcua-client';
import type { Reading, Quality } from '../types';
import { parseNodeId, defaultSensorId, resolveNodeId, ParsedNodeId } from './nodeid';
import type { BackfillOptions, BackfillEvent, Gap } from './history';

export interface ItemSpec { nodeId: string; sensorId?: string; unit?: string }

export interface GroupOptions {
  mode: 'subscribe' | 'poll';
  intervalMs: number;
  queueSize?: number;
  deadbandType?: 'none' | 'absolute' | 'percent';
  deadbandValue?: number;
  trigger?: 'status' | 'status-value' | 'status-value-timestamp';
  /** history backfill after a reconnect or restart (off when omitted) */
  backfill?: BackfillOptions;
}

export interface ItemError { nodeId: string; sensorId: string; error: string }

export interface GroupListener {
  readings(readings: Reading[]): void;
  /** items the server (or the parser) rejected, reported after every connect */
  itemErrors?(errors: ItemError[]): void;
  /** endpoint status or item qualities changed */
  status?(): void;
  /** what the server granted: publishing and sampling intervals, queue size */
  revised?(info: { publishingIntervalMs?: number; samplingIntervalMs?: number; queueSize?: number }): void;
  /** history backfill news: started, done, items without history, errors */
  backfill?(e: BackfillEvent): void;
}

export interface ItemState {
  spec: ItemSpec;
  parsed?: ParsedNodeId;
  sensorId: string;
  unit?: string;
  resolved?: string;
  error?: string;
  lastValue: any;
  quality?: Quality;
  /** a bad "no communication" reading was sent since the last good data */
  lossReported: boolean;
  /** newest good source timestamp emitted (live or backfilled), epoch ms */
  lastGoodTs?: number;
  /** holes in this item's data waiting for a history backfill, oldest first */
  gaps: Gap[];
  /** newest timestamp the backfill emitted: a live value not newer is a duplicate */
  backfilledTo?: number;
  /** the server keeps no history for this node (reported once, never asked again) */
  noHistory?: boolean;
  /** the Historizing attribute was read */
  historyChecked?: boolean;
}

export interface GroupStats {
  items: number;
  active: number;
  notGood: number;
  rejected: number;
  skippedCycles: number;
  readings: number;
  /** readings sent by the history backfill */
  backfilled: number;
  /** items the server keeps no history for */
  noHistory: number;
}

/** One poller's items on the shared session. */
export class ItemGroup {
  readonly items: ItemState[];
  skippedCycles = 0;
  readingCount = 0;
  backfilledCount = 0;
  /** a history backfill is running; backfillAgain: new gaps appeared meanwhile */
  backfilling = false;
  backfillAgain = false;
  /** live per-connection parts */
  subscription?: ClientSubscription;
  monitoredGroups: ClientMonitoredItemGroup[] = [];
  pollTimer?: NodeJS.Timeout;
  readInFlight = false;
  pending: Reading[] = [];
  flushScheduled = false;
  /** last data or keep-alive of the subscription (epoch ms) */
  lastNotification = 0;
  /** a silent subscription is being recreated */
  recreating = false;

  constructor(readonly id: string, readonly options: GroupOptions, specs: ItemSpec[], readonly listener: GroupListener) {
    this.items = specs.map((spec) => {
      const st: ItemState = { spec, sensorId: spec.sensorId || String(spec.nodeId ?? ''), unit: spec.unit || undefined, lastValue: null, lossReported: false, gaps: [] };
      try {
        st.parsed = parseNodeId(spec.nodeId);
        if (!spec.sensorId) st.sensorId = defaultSensorId(st.parsed);
      } catch (err) {
        st.error = (err as Error).message;
      }
      return st;
    });
  }

  /** Resolves every parsed NodeId against the server's namespace array; returns the items that cannot be. */
  resolve(namespaceArray: readonly string[]): ItemError[] {
    const errors: ItemError[] = [];
    for (const it of this.items) {
      if (!it.parsed) { errors.push({ nodeId: String(it.spec.nodeId), sensorId: it.sensorId, error: it.error! }); continue; }
      try {
        it.resolved = resolveNodeId(it.parsed, namespaceArray);
        it.error = undefined;
      } catch (err) {
        it.resolved = undefined;
        it.error = (err as Error).message;
        errors.push({ nodeId: it.parsed.text, sensorId: it.sensorId, error: it.error });
      }
    }
    return errors;
  }

  stats(): GroupStats {
    let active = 0;
    let notGood = 0;
    let rejected = 0;
    let noHistory = 0;
    for (const it of this.items) {
      if (it.noHistory) noHistory++;
      if (it.error) rejected++;
      else {
        active++;
        if (it.quality !== undefined && it.quality !== 'good') notGood++;
      }
    }
    return { items: this.items.length, active, notGood, rejected, skippedCycles: this.skippedCycles, readings: this.readingCount, backfilled: this.backfilledCount, noHistory };
  }
}
