// `GENIX_PUBSUB=1 npm start`: the Pub/Sub emulator with the demo project's topics and subscriptions, so that
// example flow 06 runs against it. Where gcloud or the emulator is missing, a message says what to install.
import net from 'net';
import { emulatorAuth, loadPubsub } from '../../nodes/lib/cloud/pubsub-sender';
import { pubsubEmulatorMissing, pubsubEmulatorPath, startPubsubEmulator, PubsubEmulator } from './pubsub-emulator';

export interface DemoPubsub {
  emulator: PubsubEmulator;
  /** lines for the demo's banner */
  lines: string[];
  stop(): Promise<void>;
}

export function pubsubRequested(env: NodeJS.ProcessEnv): boolean {
  return env.GENIX_PUBSUB === '1' || env.GENIX_PUBSUB === 'true';
}

/** Starts the emulator and creates the topics with one subscription each; null (after saying why) when it cannot. */
export async function startDemoPubsub(o: { host: string; projectId: string; topics: string[] }, say: (line: string) => void): Promise<DemoPubsub | null> {
  if (!pubsubEmulatorPath()) {
    say(`Pub/Sub: not started: ${pubsubEmulatorMissing}. Example 06 needs it (or a real project).`);
    return null;
  }
  let PubSub: any;
  try {
    ({ PubSub } = loadPubsub());
  } catch {
    say('Pub/Sub: not started: the Google Cloud Pub/Sub client is missing (npm install @google-cloud/pubsub).');
    return null;
  }
  const port = Number(o.host.split(':').pop());
  const free = await new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  if (!free) {
    say(`Pub/Sub: not started: port ${port} is in use (set GENIX_PUBSUB_PORT to a free port).`);
    return null;
  }
  say(`Pub/Sub: starting the emulator on ${o.host} (Java: a few seconds)…`);
  const emulator = (await startPubsubEmulator(port)) as PubsubEmulator;
  const client = new PubSub({ projectId: o.projectId, apiEndpoint: o.host, ...emulatorAuth() });
  for (const t of o.topics) {
    const [topic] = await client.topic(t).get({ autoCreate: true });
    const [exists] = await client.subscription(`${t}-demo`).exists();
    if (!exists) await topic.createSubscription(`${t}-demo`, { enableMessageOrdering: true });
  }
  await client.close();
  return {
    emulator,
    lines: [`  cloud (Pub/Sub)   emulator ${o.host}, project ${o.projectId}, topics ${o.topics.join(', ')} (subscriptions ${o.topics.map((t) => `${t}-demo`).join(', ')}); example 06`],
    stop: () => emulator.stop(),
  };
}
