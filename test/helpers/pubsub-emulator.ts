// The real Pub/Sub emulator for tests, one per test file (Java starts slowly), plus the test's own
// subscriber: it creates topics and subscriptions and collects what arrives, through Google's client.
import { PubSub, Message, Subscription } from '@google-cloud/pubsub';
import { freePort } from './net';
import { emulatorAuth } from '../../nodes/lib/cloud/pubsub-sender';
import { requirePrereq } from './prereq';
import { PubsubEmulator, pubsubEmulatorMissing, pubsubEmulatorPath, startPubsubEmulator } from '../../scripts/plant/pubsub-emulator';

export { PubsubEmulator, pubsubEmulatorPath, pubsubEmulatorMissing };
export const PROJECT = 'genix-test';

/** In a `before` hook: the emulator on a free port, or a skip (locally) / failure (CI) saying what to install. */
export async function emulatorFor(ctx: Mocha.Context): Promise<PubsubEmulator> {
  requirePrereq(ctx, pubsubEmulatorPath(), `${pubsubEmulatorMissing}; .ci/run installs it`);
  const emu = await startPubsubEmulator(await freePort());
  if (!emu) throw new Error(pubsubEmulatorMissing);
  return emu;
}

export function adminClient(host: string): PubSub {
  // its own connections, retried quickly: the tests restart the emulator
  const grpcOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_reconnect_backoff_ms': 500 };
  return new PubSub({ projectId: PROJECT, apiEndpoint: host, ...grpcOptions, ...emulatorAuth() } as ConstructorParameters<typeof PubSub>[0]);
}

export interface Received {
  data: string;
  attributes: Record<string, string>;
  orderingKey: string;
  id: string;
}

/** A fresh topic and subscription; every message that arrives is acked and kept in `received`. */
export async function subscribe(client: PubSub, topic: string, sub: string, ordering = false): Promise<{ received: Received[]; close(): Promise<void> }> {
  const [t] = await client.topic(topic).get({ autoCreate: true });
  let subscription: Subscription;
  const [exists] = await client.subscription(sub).exists();
  if (exists) subscription = client.subscription(sub);
  else [subscription] = await t.createSubscription(sub, { enableMessageOrdering: ordering });
  const received: Received[] = [];
  subscription.on('message', (m: Message) => {
    received.push({ data: m.data.toString(), attributes: { ...m.attributes }, orderingKey: m.orderingKey ?? '', id: m.id });
    m.ack();
  });
  // the emulator going away is part of some tests: the stream's error is expected there
  subscription.on('error', () => undefined);
  // closing flushes acks; to an emulator that was killed that would wait for the client's 60 s timeout
  return { received, close: () => Promise.race([subscription.close(), new Promise<void>((r) => setTimeout(r, 1000).unref())]) };
}
