// genix-sparkplug-out: publishes readings and alarm events as a Sparkplug B edge node and answers every input
// with its delivery report (msg.delivery.ok after PUBACK), like the cloud publisher.
import os from 'os';
import path from 'path';
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { defaultClientId, installationId } from './lib/cloud/client-id';
import { redact, SendResult } from './lib/cloud/errors';
import { numberOr } from './lib/common/numbers';
import { SparkplugSession } from './lib/sparkplug/session';
import { toSamples } from './lib/sparkplug/samples';
import { idProblem, safeId } from './lib/sparkplug/topics';

interface SparkplugDef extends NodeDef {
  endpoint: string;
  group?: string;
  edgeNode?: string;
  deviceField?: string;
  defaultDevice?: string;
  alarmDevice?: string;
  hostId?: string;
  stateVersion?: string;
}

/** What we read of the genix-cloud-endpoint's saved settings (flow JSON). */
interface EndpointConfig {
  id: string;
  type: string;
  protocol?: string;
  url?: string;
  tls?: string;
  keepalive?: string | number;
  reconnectMinMs?: string | number;
  reconnectMaxMs?: string | number;
  connectTimeoutMs?: string | number;
}

/** Writes the result into msg.delivery as DESIGN.md "Delivery" says (same fields as the cloud publisher). */
function report(msg: any, r: SendResult) {
  const d = msg.delivery && typeof msg.delivery === 'object' ? msg.delivery : (msg.delivery = {});
  d.ok = r.ok;
  for (const k of ['error', 'permanent', 'retryAfterMs']) if (k in d) delete d[k];
  if (r.ok) return;
  d.error = r.error ?? 'not delivered';
  if (r.permanent) d.permanent = true;
}

export = function (RED: NodeAPI) {
  const userDir = (): string => String((RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red'));

  function endpointConfig(id: string): EndpointConfig | null {
    let found: EndpointConfig | null = null;
    // the endpoint's saved settings, through the public runtime API (its node object keeps only the connection)
    RED.nodes.eachNode((n: any) => { if (n.id === id && n.type === 'genix-cloud-endpoint') found = n as EndpointConfig; });
    return found;
  }

  function GenixSparkplugOut(this: Node, config: SparkplugDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED handlers need the node object
    const node = this;
    const group = String(config.group ?? '').trim() || 'genix';
    const edgeNode = String(config.edgeNode ?? '').trim() || safeId(os.hostname());
    const hostId = String(config.hostId ?? '').trim();
    const stateVersion = config.stateVersion === '2.2' ? '2.2' : '3.0';
    const sampleOptions = {
      deviceField: String(config.deviceField ?? '').trim() || 'lineId',
      defaultDevice: String(config.defaultDevice ?? '').trim() || 'readings',
      alarmDevice: String(config.alarmDevice ?? '').trim() || 'alarms',
    };
    const ep = config.endpoint ? endpointConfig(config.endpoint) : null;
    const endpointNode = config.endpoint ? (RED.nodes.getNode(config.endpoint) as (Node & { credentials?: Record<string, string> }) | null) : null;
    const creds = endpointNode?.credentials ?? {};
    let problem = idProblem('Group ID', group) || idProblem('Edge node ID', edgeNode) || (hostId ? idProblem('Primary host ID', hostId) : '');
    if (!ep || !endpointNode) problem = problem || 'no cloud endpoint configured: choose a genix-cloud-endpoint with protocol MQTT';
    else if (ep.protocol === 'http') problem = problem || 'the cloud endpoint uses HTTP: Sparkplug B needs an endpoint with protocol MQTT';
    else if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(String(ep.url ?? '').trim())) problem = problem || 'the cloud endpoint URL must start with mqtt://, mqtts://, ws:// or wss://';
    let tls: Record<string, unknown> | undefined;
    if (!problem && ep?.tls) {
      const tlsNode = RED.nodes.getNode(ep.tls) as any;
      if (tlsNode && typeof tlsNode.addTLSOptions === 'function') tls = tlsNode.addTLSOptions({});
      else problem = 'the TLS configuration node of the cloud endpoint was not found';
    }

    let session: SparkplugSession | null = null;
    if (problem) {
      node.error(problem);
      node.status({ fill: 'red', shape: 'ring', text: 'genix-sparkplug-out.status.misconfigured' });
    } else {
      // our own connection (its will is our NDEATH): a client id of its own, fixed per installation and node
      const clientId = defaultClientId(installationId(userDir()).id, node.id);
      session = new SparkplugSession({
        url: String(ep?.url).trim(),
        clientId,
        group,
        edgeNode,
        hostId,
        stateVersion,
        username: creds.username || undefined,
        password: creds.password || creds.token || undefined,
        tls,
        keepaliveSec: numberOr(ep?.keepalive, 30, { min: 0 }),
        reconnectMinMs: Math.max(10, numberOr(ep?.reconnectMinMs, 1000)),
        reconnectMaxMs: Math.max(10, numberOr(ep?.reconnectMaxMs, 30000)),
        connectTimeoutMs: numberOr(ep?.connectTimeoutMs, 10000),
      });
      const s = session;
      const showStatus = () => {
        const p = s.phase;
        if (p === 'online') node.status({ fill: 'green', shape: 'dot', text: RED._('genix-sparkplug-out.status.online', { group, edgeNode, bdSeq: s.model.bdSeq }) });
        else if (p === 'waiting-host') node.status({ fill: 'yellow', shape: 'ring', text: RED._('genix-sparkplug-out.status.waitingHost', { host: hostId, version: stateVersion, topic: s.hostStateTopic }) });
        else node.status({ fill: p === 'connecting' ? 'yellow' : 'red', shape: 'ring', text: `genix-sparkplug-out.status.${p === 'connecting' ? 'connecting' : 'disconnected'}` });
      };
      s.on('phase', showStatus);
      s.on('link-error', (text: string) => node.debug(`connection error: ${redact(text, [creds.password, creds.token])}`));
      s.on('rebirth', () => node.log('rebirth requested by NCMD: NBIRTH and every DBIRTH sent again'));
      showStatus();
      s.start();
    }

    node.on('input', (msg: any, send: (m: any) => void, done: (err?: Error) => void) => {
      if (!session) {
        report(msg, { ok: false, error: problem });
        send(msg);
        done();
        return;
      }
      const { samples, error } = toSamples(msg.payload, sampleOptions);
      if (error) {
        // retrying cannot make this a reading: the buffer dead-letters it
        report(msg, { ok: false, error: `not a reading or alarm event: ${error}`, permanent: true });
        send(msg);
        done();
        return;
      }
      const d = msg.delivery;
      // a retried row (attempt > 1) is backlog: the host stores it as history, not as the live value
      const replay = !!d && typeof d === 'object' && typeof d.attempt === 'number' && d.attempt > 1;
      session.publish(samples, replay, (r) => {
        report(msg, r);
        send(msg);
        done();
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!session) {
        done();
        return;
      }
      session.stop().then(done, (e) => {
        node.warn(String(e?.message ?? e));
        done();
      });
    });
  }

  RED.nodes.registerType('genix-sparkplug-out', GenixSparkplugOut as any);
};
