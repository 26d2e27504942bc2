// Shared by the cloud MQTT test files: a reading, connections closed after each test, a publisher, a subscriber.
import mqtt from 'mqtt';
import { MqttConnection, MqttConnectionOptions } from '../../nodes/lib/cloud/mqtt-connection';
import { CloudPublisher, PublisherOptions } from '../../nodes/lib/cloud/publisher';
import { compileTopic } from '../../nodes/lib/cloud/topic';
import type { SendResult } from '../../nodes/lib/cloud/errors';
import { mosquittoPath } from '../helpers/brokers';
import { requirePrereq } from '../helpers/prereq';

export const reading = (i: number, extra: object = {}) => ({ sensorId: `S-${i % 3}`, value: i, ts: 1686000000000 + i, quality: 'good', plantId: 'p1', ...extra });

/** Mosquitto is a prerequisite: under CI its absence fails the suite, locally the suite is skipped with the reason. */
export function needMosquitto(ctx: Mocha.Context) {
  requirePrereq(ctx, mosquittoPath(), 'Mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)');
}

export function submitAll(pub: CloudPublisher, payloads: unknown[]): Promise<SendResult[]> {
  return Promise.all(payloads.map((p, i) => new Promise<SendResult>((resolve, reject) => {
    let calls = 0;
    const bad = pub.submit(p, undefined, (r) => {
      if (++calls > 1) reject(new Error(`input ${i} answered twice`));
      resolve(r);
    });
    if (bad) reject(new Error(bad));
  })));
}

export async function subscriber(url: string, topic = '#', v: 4 | 5 = 5) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: v });
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  c.on('message', (t, p, packet) => got.push({ topic: t, payload: p.toString(), retain: packet.retain }));
  await c.subscribeAsync(topic, { qos: 1 });
  return { c, got };
}

export const opened: MqttConnection[] = [];
export function connection(o: Partial<MqttConnectionOptions> & { url: string }): MqttConnection {
  const c = new MqttConnection({ clientId: `t-${Math.random().toString(16).slice(2, 10)}`, reconnectMinMs: 50, reconnectMaxMs: 200, ...o });
  opened.push(c);
  c.start();
  return c;
}
export const publisher = (conn: MqttConnection, o: Partial<PublisherOptions> = {}) =>
  new CloudPublisher(conn, { topic: compileTopic('t/{sensorId}'), qos: 1, batchMaxMessages: 1, batchMaxMs: 10, batchMaxBytes: 0, ...o });
