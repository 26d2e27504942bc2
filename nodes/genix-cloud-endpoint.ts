// Config node: the one MQTT or HTTP(S) connection to the cloud, shared by every publisher using it.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { MqttConnection } from './lib/cloud/mqtt-connection';
import { HttpSender } from './lib/cloud/http-sender';
import type { Transport } from './lib/cloud/transport';
import { redact } from './lib/cloud/errors';
import { numberOr } from './lib/common/numbers';

interface EndpointDef extends NodeDef {
  protocol: 'mqtt' | 'http';
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
  httpFormat?: 'json' | 'ndjson';
  gzip?: boolean;
  apiKeyHeader?: string;
  timeoutMs?: string | number;
}

interface Credentials {
  username?: string;
  password?: string;
  token?: string;
}

interface CloudEndpointNode extends Node<Credentials> {
  /** null when the configuration is unusable; `configError` says why */
  transport: Transport | null;
  configError: string;
  register(user: Node): Transport | null;
  deregister(user: Node): void;
}

const num = (v: unknown, fallback: number): number => numberOr(v, fallback);

export = function (RED: NodeAPI) {
  function GenixCloudEndpoint(this: CloudEndpointNode, config: EndpointDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED handlers need the node object
    const node = this;
    const creds: Credentials = node.credentials ?? {};
    const secrets = [creds.password, creds.token];
    const users = new Set<Node>();
    let started = false;
    node.transport = null;
    node.configError = '';

    let tls: Record<string, unknown> | undefined;
    if (config.tls) {
      const tlsNode = RED.nodes.getNode(config.tls) as any;
      if (tlsNode && typeof tlsNode.addTLSOptions === 'function') tls = tlsNode.addTLSOptions({});
      else node.configError = 'the TLS configuration node was not found';
    }

    let mqttConn: MqttConnection | null = null;
    let httpSender: HttpSender | null = null;
    try {
      const url = String(config.url ?? '').trim();
      if (!url) throw new Error('no URL configured');
      if (config.protocol === 'http') {
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
        const clientId = config.clientId || `genix-${node.id}`;
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
          tls,
        });
        mqttConn.on('link-error', (text: string) => node.debug(`connection error: ${text}`));
      }
      node.transport = (mqttConn ?? httpSender) as Transport;
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
      const stopping = mqttConn ? mqttConn.stop() : httpSender ? httpSender.stop() : Promise.resolve();
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
    },
  });
};
