// Config node: the one MQTT, HTTP(S) or Google Cloud Pub/Sub connection to the cloud, shared by every publisher using it.
import os from 'os';
import path from 'path';
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { MqttConnection } from './lib/cloud/mqtt-connection';
import { defaultClientId, installationId, validNodeId } from './lib/cloud/client-id';
import { HttpSender } from './lib/cloud/http-sender';
import { DEFAULT_ATTRIBUTES, PubsubSender } from './lib/cloud/pubsub-sender';
import type { Transport } from './lib/cloud/transport';
import { redact } from './lib/cloud/errors';
import { numberOr } from './lib/common/numbers';

interface EndpointDef extends NodeDef {
  protocol: 'mqtt' | 'http' | 'pubsub';
  url: string;
  clientId?: string;
  tls?: string;
  protocolVersion?: string | number;
  keepalive?: string | number;
  cleanSession?: boolean;
  stateTopic?: string;
  reconnectMinMs?: string | number;
  reconnectMaxMs?: string | number;
  connectTimeoutMs?: string | number;
  maxInFlight?: string | number;
  answerTimeoutMs?: string | number;
  sessionExpirySec?: string | number;
  httpFormat?: 'json' | 'ndjson';
  gzip?: boolean;
  apiKeyHeader?: string;
  timeoutMs?: string | number;
  projectId?: string;
  pubsubTopic?: string;
  orderingKey?: string;
  attributes?: string;
  apiEndpoint?: string;
}

interface Credentials {
  username?: string;
  password?: string;
  token?: string;
  /** Pub/Sub: a service-account key file's JSON */
  serviceAccountKey?: string;
}

interface CloudEndpointNode extends Node<Credentials> {
  /** null when the configuration is unusable; `configError` says why */
  transport: Transport | null;
  configError: string;
  /** the MQTT client id in use (configured, or this installation's default) */
  clientId: string;
  register(user: Node): Transport | null;
  deregister(user: Node): void;
}

const num = (v: unknown, fallback: number): number => numberOr(v, fallback);

export = function (RED: NodeAPI) {
  const userDir = (): string => String((RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red'));

  // the editor shows the default client id of an endpoint as the Client ID placeholder
  RED.httpAdmin.get('/genix/cloud/default-client-id', RED.auth.needsPermission('genix-cloud-endpoint.read'), (req: any, res: any) => {
    const id = req.query?.node;
    if (!validNodeId(id)) {
      res.status(400).json({ error: 'query parameter "node" must be a node id (1 to 64 letters, digits, ".", "_" or "-")' });
      return;
    }
    const inst = installationId(userDir());
    res.json({ clientId: defaultClientId(inst.id, id), persisted: inst.persisted });
  });

  function GenixCloudEndpoint(this: CloudEndpointNode, config: EndpointDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED handlers need the node object
    const node = this;
    const creds: Credentials = node.credentials ?? {};
    const secrets = [creds.password, creds.token, creds.serviceAccountKey];
    const users = new Set<Node>();
    let started = false;
    node.transport = null;
    node.configError = '';
    node.clientId = '';

    let tls: Record<string, unknown> | undefined;
    if (config.tls) {
      const tlsNode = RED.nodes.getNode(config.tls) as any;
      if (tlsNode && typeof tlsNode.addTLSOptions === 'function') tls = tlsNode.addTLSOptions({});
      else node.configError = 'the TLS configuration node was not found';
    }

    let mqttConn: MqttConnection | null = null;
    let httpSender: HttpSender | null = null;
    let pubsub: PubsubSender | null = null;
    try {
      const url = String(config.url ?? '').trim();
      if (config.protocol === 'pubsub') {
        // the Google client is required here, not at load: MQTT and HTTP users never load it
        pubsub = new PubsubSender({
          projectId: String(config.projectId ?? ''),
          defaultTopic: String(config.pubsubTopic ?? '').trim() || undefined,
          credentialsJson: creds.serviceAccountKey,
          apiEndpoint: String(config.apiEndpoint ?? '').trim() || undefined,
          orderingKey: String(config.orderingKey ?? '').trim() || undefined,
          attributes: String(config.attributes ?? DEFAULT_ATTRIBUTES).split(','),
          timeoutMs: Math.max(100, num(config.timeoutMs, 10000)),
        });
      } else if (!url) throw new Error('no URL configured');
      else if (config.protocol === 'http') {
        httpSender = new HttpSender({
          url,
          framing: config.httpFormat === 'ndjson' ? 'ndjson' : 'json',
          gzip: !!config.gzip,
          token: creds.token,
          apiKeyHeader: config.apiKeyHeader || undefined,
          username: creds.username,
          password: creds.password,
          timeoutMs: num(config.timeoutMs, 10000),
          maxInFlight: Math.max(1, num(config.maxInFlight, 8)),
          tls,
        });
      } else {
        if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) throw new Error('the URL must start with mqtt://, mqtts://, ws:// or wss://');
        const configured = String(config.clientId ?? '').trim();
        // an id taken from the flow would be the same on every gateway that imports it: default per installation
        const inst = configured ? null : installationId(userDir());
        const clientId = configured || defaultClientId((inst as { id: string }).id, node.id);
        node.clientId = clientId;
        if (inst) {
          node.log(`MQTT client id ${clientId} (this installation's default)`);
          if (!inst.persisted) node.warn(`cannot save the installation id under ${userDir()}: the default MQTT client id ${clientId} changes at the next start`);
        }
        mqttConn = new MqttConnection({
          url,
          clientId,
          protocolVersion: String(config.protocolVersion) === '5' ? 5 : 4,
          username: creds.username || undefined,
          // token-based clouds (e.g. SAS tokens) carry the token in the MQTT password field
          password: creds.password || creds.token || undefined,
          keepaliveSec: num(config.keepalive, 60),
          clean: config.cleanSession !== false,
          stateTopic: config.stateTopic ? config.stateTopic.replace(/\{clientId\}/g, clientId) : undefined,
          reconnectMinMs: Math.max(10, num(config.reconnectMinMs, 1000)),
          reconnectMaxMs: Math.max(10, num(config.reconnectMaxMs, 30000)),
          connectTimeoutMs: num(config.connectTimeoutMs, 10000),
          maxInFlight: Math.max(1, num(config.maxInFlight, 2000)),
          answerTimeoutMs: Math.max(0, num(config.answerTimeoutMs, 30000)),
          sessionExpirySec: Math.max(1, num(config.sessionExpirySec, 3600)),
          tls,
        });
        mqttConn.on('link-error', (text: string) => node.debug(`connection error: ${text}`));
        // takeover loop, half-open connection, QoS the broker refuses: once per episode, never with secrets
        mqttConn.on('warning', (text: string) => node.warn(redact(text, secrets)));
      }
      node.transport = (mqttConn ?? httpSender ?? pubsub) as Transport;
    } catch (e) {
      node.configError = node.configError || redact((e as Error).message, secrets);
    }
    if (node.configError) {
      node.transport = null;
      node.error(RED._('genix-cloud-endpoint.errors.config', { error: node.configError }) + `: ${node.configError}`);
    }

    node.register = (user: Node) => {
      users.add(user);
      if (!started && mqttConn) {
        started = true;
        mqttConn.start();
      }
      return node.transport;
    };
    node.deregister = (user: Node) => {
      users.delete(user);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const stopping = mqttConn ? mqttConn.stop() : httpSender ? httpSender.stop() : pubsub ? pubsub.stop() : Promise.resolve();
      stopping.then(done, (e) => {
        node.warn(redact(String(e?.message ?? e), secrets));
        done();
      });
    });
  }

  RED.nodes.registerType('genix-cloud-endpoint', GenixCloudEndpoint as any, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
      serviceAccountKey: { type: 'password' },
    },
  });
};
