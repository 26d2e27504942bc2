// genix-opcua-poller: reads PLC tags through a shared genix-opcua-endpoint, by subscription or cyclic Read.
import type { NodeAPI, Node, NodeDef, NodeMessage } from 'node-red';
import type { Reading } from './lib/types';
import type { GroupOptions, ItemGroup, ItemSpec, ItemError, GroupListener, OpcuaSessionManager } from './lib/opcua/session-manager';
import { itemsFrom } from './lib/opcua/items';
import { LastGoodStore, historyFile } from './lib/opcua/last-good';
import { backfillOptionsFrom, BackfillEvent } from './lib/opcua/backfill';

/** the parts of genix-opcua-endpoint a poller uses */
interface EndpointNode {
  manager: OpcuaSessionManager;
  register(poller: Node, options: GroupOptions, items: ItemSpec[], listener: GroupListener): ItemGroup;
  deregister(poller: Node): Promise<void>;
}

interface PollerDef extends NodeDef {
  endpoint: string;
  mode: 'subscribe' | 'poll';
  intervalMs: number | string;
  items: ItemSpec[] | string;
  output: 'each' | 'batch';
  queueSize?: number | string;
  deadbandType?: 'none' | 'absolute' | 'percent';
  deadbandValue?: number | string;
  trigger?: GroupOptions['trigger'];
  backfill?: 'auto' | 'on' | 'off';
  backfillWindowMin?: number | string;
  backfillRate?: number | string;
  backfillValuesPerRead?: number | string;
}

export = function (RED: NodeAPI) {
  function GenixOpcuaPoller(this: Node, def: PollerDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below run with another `this`
    const node = this;
    const endpoint = RED.nodes.getNode(def.endpoint) as unknown as EndpointNode | null;
    const batch = def.output === 'batch';
    const mode = def.mode === 'poll' ? 'poll' : 'subscribe';
    const intervalMs = Number(def.intervalMs) > 0 ? Number(def.intervalMs) : 100;
    const items = itemsFrom(def.items);
    let revisedMs: number | undefined;
    let lastStatusKey = '';

    if (!endpoint) {
      node.status({ fill: 'red', shape: 'ring', text: 'genix-opcua-poller.status.noEndpoint' });
      node.error(RED._('genix-opcua-poller.errors.noEndpoint'));
      return;
    }
    if (!items.length) {
      node.status({ fill: 'red', shape: 'ring', text: 'genix-opcua-poller.status.noItems' });
      node.error(RED._('genix-opcua-poller.errors.noItems'));
    }

    // eslint-disable-next-line prefer-const -- assigned once register() returns; status may be asked for before
    let groupRef: ItemGroup | undefined;
    const updateStatus = () => {
      const group = groupRef;
      if (!group) return;
      const s = endpoint.manager.status;
      const st = group.stats();
      const notGood = st.notGood;
      let fill: 'green' | 'yellow' | 'red' | 'grey' = 'green';
      let shape: 'dot' | 'ring' = 'dot';
      let text: string;
      switch (s.state) {
        case 'connected':
          fill = notGood > 0 || st.rejected > 0 ? 'yellow' : 'green';
          text = RED._('genix-opcua-poller.status.connected', { n: st.active - st.rejected, interval: revisedMs ?? intervalMs });
          break;
        case 'connecting': fill = 'yellow'; shape = 'ring'; text = RED._('genix-opcua-poller.status.connecting'); break;
        case 'reconnecting': fill = 'yellow'; shape = 'ring'; text = RED._('genix-opcua-poller.status.reconnecting', { attempt: s.attempt }); break;
        case 'stale': fill = 'red'; shape = 'ring'; text = RED._('genix-opcua-poller.status.stale'); break;
        case 'error':
          fill = 'red'; shape = 'ring';
          text = RED._(`genix-opcua-poller.status.${s.errorKind === 'untrusted' ? 'untrusted' : s.errorKind === 'auth' ? 'authFailed' : 'error'}`, { attempt: s.attempt });
          break;
        default: fill = 'grey'; shape = 'ring'; text = RED._('genix-opcua-poller.status.closed');
      }
      if (notGood > 0) text += ' ' + RED._('genix-opcua-poller.status.notGood', { n: notGood });
      if (group.backfilling && s.state === 'connected') text += ' ' + RED._('genix-opcua-poller.status.backfilling');
      const key = `${fill}|${shape}|${text}`;
      if (key === lastStatusKey) return;
      lastStatusKey = key;
      node.status({ fill, shape, text });
    };

    const sendReadings = (readings: Reading[]) => {
      if (batch) {
        node.send({ topic: readings.length === 1 ? readings[0].sensorId : node.name || 'opcua', payload: readings } as NodeMessage);
      } else {
        for (const r of readings) node.send({ topic: r.sensorId, payload: r } as NodeMessage);
      }
    };

    const store = def.backfill === 'off' ? undefined
      : new LastGoodStore(historyFile((RED.settings as any).userDir, node.id), 1000, (m) => node.warn(m));
    const options: GroupOptions = {
      mode,
      intervalMs,
      queueSize: Number(def.queueSize) > 0 ? Number(def.queueSize) : 10,
      deadbandType: def.deadbandType === 'absolute' || def.deadbandType === 'percent' ? def.deadbandType : 'none',
      deadbandValue: Number(def.deadbandValue) || 0,
      trigger: def.trigger,
      backfill: store && backfillOptionsFrom(def, store),
    };
    const noHistoryReported = new Set<string>();
    const onBackfill = (e: BackfillEvent) => {
      if (e.kind === 'start') node.log(RED._('genix-opcua-poller.log.backfillStart', { n: e.items }));
      else if (e.kind === 'done') node.log(RED._('genix-opcua-poller.log.backfillDone', { values: e.values, reads: e.reads }));
      else if (e.kind === 'clipped') node.warn(RED._('genix-opcua-poller.errors.backfillClipped', { n: e.items, lost: Math.round(e.lostMs / 1000), window: Math.round(e.maxWindowMs / 60000) }));
      else if (e.kind === 'error') node.warn(RED._('genix-opcua-poller.errors.backfillFailed', { n: e.items, error: e.message }));
      else if (e.kind === 'noHistory') {
        // said once per item: a server without history is a fact, not a recurring fault
        const fresh = e.items.filter((i) => !noHistoryReported.has(i.nodeId));
        if (!fresh.length) return;
        for (const i of fresh) noHistoryReported.add(i.nodeId);
        node.warn(RED._('genix-opcua-poller.errors.noHistory', { n: fresh.length, items: fresh.slice(0, 10).map((i) => `${i.sensorId} (${i.reason})`).join('; ') + (fresh.length > 10 ? '; …' : '') }));
      }
    };
    let reported = '';
    const group: ItemGroup = endpoint.register(node, options, items, {
      readings: sendReadings,
      status: updateStatus,
      backfill: onBackfill,
      itemErrors: (errors: ItemError[]) => {
        const key = errors.map((e) => `${e.nodeId}:${e.error}`).join('|');
        if (!errors.length || key === reported) return;
        reported = key;
        // one error per connect naming every rejected item, so a Catch node sees which
        node.error(RED._('genix-opcua-poller.errors.rejected', { n: errors.length, items: errors.map((e) => `${e.sensorId} (${e.nodeId}): ${e.error}`).join('; ') }), { payload: errors } as any);
      },
      revised: (info) => {
        revisedMs = mode === 'subscribe' ? info.publishingIntervalMs : intervalMs;
        if (mode === 'subscribe' && (info.publishingIntervalMs !== intervalMs || (info.samplingIntervalMs !== undefined && info.samplingIntervalMs !== intervalMs))) {
          node.log(RED._('genix-opcua-poller.log.revised', { publishing: String(info.publishingIntervalMs), sampling: String(info.samplingIntervalMs), queue: String(info.queueSize) }));
        }
      },
    });
    groupRef = group;
    updateStatus();

    node.on('input', (msg: NodeMessage & { topic?: string }, send: (m: Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      // any input asks for the poller's counters; they leave on the second output, never among the readings
      const st = group.stats();
      send([null, { ...msg, topic: 'stats', payload: { ...st, endpoint: endpoint.manager.status } } as NodeMessage]);
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      // a redeploy keeps the last-good file (the next poller backfills the redeploy's hole); a deleted poller takes it along
      endpoint.deregister(node).catch(() => undefined).finally(() => { if (removed) store?.discard(); else store?.close(); done(); });
    });
  }

  RED.nodes.registerType('genix-opcua-poller', GenixOpcuaPoller as any);
};
