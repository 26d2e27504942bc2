// Publishes readings and alarms to the cloud and answers every input with its delivery report.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import { CloudPublisher } from './lib/cloud/publisher';
import { compileTopic, TopicFn } from './lib/cloud/topic';
import type { SendResult } from './lib/cloud/errors';
import type { LinkState, Transport } from './lib/cloud/transport';
import { numberOr } from './lib/common/numbers';

/** What a publisher uses of its genix-cloud-endpoint config node. */
interface CloudEndpointNode extends Node {
  configError: string;
  register(user: Node): Transport | null;
  deregister(user: Node): void;
}

interface PublisherDef extends NodeDef {
  endpoint: string;
  topic?: string;
  qos?: string | number;
  batchMaxMessages?: string | number;
  batchMaxMs?: string | number;
  batchMaxBytes?: string | number;
  mergeWhenBusy?: boolean;
}

const int = (v: unknown, fallback: number): number => numberOr(v, fallback, { min: 0, integer: true });

/** Writes the result into msg.delivery (created when the message has none) as DESIGN.md "Delivery" says. */
function report(msg: any, r: SendResult) {
  const d = msg.delivery && typeof msg.delivery === 'object' ? msg.delivery : (msg.delivery = {});
  d.ok = r.ok;
  // the ids the cloud gave the messages (Pub/Sub) travel beside msg.delivery, whose fields DESIGN.md fixes
  if (r.ok && r.ids) msg.messageIds = r.ids;
  if (r.ok) {
    if ('error' in d) delete d.error;
    if ('permanent' in d) delete d.permanent;
    if ('retryAfterMs' in d) delete d.retryAfterMs;
    return;
  }
  d.error = r.error ?? 'not delivered';
  if (r.permanent) d.permanent = true;
  else if ('permanent' in d) delete d.permanent;
  if (r.retryAfterMs !== undefined) d.retryAfterMs = r.retryAfterMs;
  else if ('retryAfterMs' in d) delete d.retryAfterMs;
}

const STATUS_MS = 1000;

export = function (RED: NodeAPI) {
  function GenixCloudPublisher(this: Node, config: PublisherDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED handlers need the node object
    const node = this;
    const endpoint = RED.nodes.getNode(config.endpoint) as CloudEndpointNode | null;
    let problem = '';
    let topicFn: TopicFn | null = null;
    try {
      topicFn = config.topic ? compileTopic(config.topic) : null;
    } catch (e) {
      problem = (e as Error).message;
    }
    if (!endpoint) problem = problem || 'no cloud endpoint configured';
    let transport: Transport | null = null;
    if (!problem && endpoint) {
      transport = endpoint.register(node);
      if (!transport) problem = `the cloud endpoint is not usable: ${endpoint.configError}`;
    }
    let publisher: CloudPublisher | null = null;
    if (transport) {
      publisher = new CloudPublisher(transport, {
        topic: topicFn,
        qos: String(config.qos ?? '1') === '0' ? 0 : 1,
        batchMaxMessages: Math.max(1, int(config.batchMaxMessages, 1)),
        batchMaxMs: Math.max(1, int(config.batchMaxMs, 100)),
        batchMaxBytes: int(config.batchMaxBytes, 131072),
        mergeWhenBusy: config.mergeWhenBusy !== false,
      });
    } else {
      node.error(problem);
      node.status({ fill: 'red', shape: 'ring', text: 'genix-cloud-publisher.status.misconfigured' });
    }

    // status: link state at once, messages per second at most once a second
    let shown = '';
    let lastTotal = 0;
    let lastAt = Date.now();
    let rate = 0;
    const show = () => {
      if (!transport || !publisher) return;
      const s: LinkState = transport.state;
      const problem = transport.problem;
      // a problem (takeover loop, no answer, QoS refused) says more than the link state it causes
      const fill = problem ? (s === 'connected' ? 'yellow' : 'red') : s === 'connected' ? 'green' : s === 'disconnected' ? 'red' : 'yellow';
      const text = `${RED._(`genix-cloud-publisher.status.${problem || s}`)} · ${rate} msg/s`;
      const key = fill + text;
      if (key === shown) return;
      shown = key;
      node.status({ fill, shape: s === 'connected' ? 'dot' : 'ring', text });
    };
    const onState = () => show();
    let ticker: NodeJS.Timeout | null = null;
    if (transport && publisher) {
      const pub = publisher;
      transport.on('state', onState);
      ticker = setInterval(() => {
        const now = Date.now();
        const total = pub.answeredOk + pub.answeredFailed;
        rate = Math.round(((total - lastTotal) * 1000) / Math.max(1, now - lastAt));
        lastTotal = total;
        lastAt = now;
        show();
      }, STATUS_MS);
      ticker.unref();
      show();
    }

    node.on('input', (msg: NodeMessageInFlow, send: (m: any) => void, done: (err?: Error) => void) => {
      if (!publisher) {
        report(msg, { ok: false, error: problem });
        send(msg);
        done(new Error(problem));
        return;
      }
      const bad = publisher.submit(msg.payload, msg.topic, (r) => {
        report(msg, r);
        send(msg);
        done();
      });
      if (bad) {
        // unusable input can never be delivered: say so to the buffer (permanent) and to Catch nodes
        report(msg, { ok: false, error: bad, permanent: true });
        send(msg);
        done(new Error(bad));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (ticker) clearInterval(ticker);
      if (transport) transport.off('state', onState);
      if (publisher) publisher.close();
      if (endpoint) endpoint.deregister(node);
      done();
    });
  }

  RED.nodes.registerType('genix-cloud-publisher', GenixCloudPublisher as any);
};
