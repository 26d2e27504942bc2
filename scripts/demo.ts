/**
 * `npm start`: the simulated plant plus a local Node-RED (editor on http://127.0.0.1:1880) with this
 * package loaded and the demo flow deployed. Ctrl-C stops everything.
 * Environment: GENIX_PORT, GENIX_USER_DIR, GENIX_CLOUD_URL, GENIX_SENSORS, GENIX_RATE_MS,
 * GENIX_SENSOR_PORT, GENIX_CLOUD_PORT, GENIX_OPCUA_PORT, GENIX_KEEP_FLOWS (1 = keep your edited flow),
 * GENIX_PUBSUB (1 = also the Pub/Sub emulator on 127.0.0.1:8085, or GENIX_PUBSUB_PORT, and example flow 06 deployed against it).
 */
import fs from 'fs';
import http from 'http';
import path from 'path';
import { startPlant, plantOptionsFromEnv, Plant } from './plant/plant';
import { buildDemoFlow, availableTypes } from './demo-flow';
import { example6, PUBSUB_DEMO } from './examples';
import { pubsubRequested, startDemoPubsub, DemoPubsub } from './plant/pubsub-demo';

const repoRoot = path.resolve(__dirname, '..', '..');

function linkModule(userDir: string, name: string, target: string): void {
  const link = path.join(userDir, 'node_modules', ...name.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  let current: string | null = null;
  try {
    current = fs.readlinkSync(link);
  } catch {
    current = null;
  }
  if (current !== target) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(target, link, 'dir');
  }
}

/** The dashboard module's folder when it is installed (a dev dependency: demo only). */
function dashboardDir(): string | null {
  try {
    return path.dirname(require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [repoRoot] }));
  } catch {
    return null;
  }
}

/** Makes userDir a Node-RED user directory that loads this package (and the dashboard) from the checkout. */
export function prepareUserDir(userDir: string): void {
  linkModule(userDir, '@genix/node-red-iiot', repoRoot);
  const dash = dashboardDir();
  if (dash) linkModule(userDir, '@flowfuse/node-red-dashboard', dash);
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) {
    fs.writeFileSync(pkg, JSON.stringify({ name: 'genix-demo-userdir', private: true, description: 'Node-RED user directory of the genix demo' }, null, 2));
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.GENIX_PORT || 1880);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`GENIX_PORT must be a TCP port number, got "${process.env.GENIX_PORT}"`);
  const userDir = path.resolve(process.env.GENIX_USER_DIR || path.join(repoRoot, '.genix-demo'));
  fs.mkdirSync(userDir, { recursive: true });
  prepareUserDir(userDir);

  const plantOpts = plantOptionsFromEnv(process.env, userDir);
  let plant: Plant;
  try {
    plant = await startPlant(plantOpts);
  } catch (err: any) {
    if (err && err.code === 'EADDRINUSE') {
      throw new Error(`a port of the simulated plant is in use (${err.message}); set GENIX_SENSOR_PORT, GENIX_CLOUD_PORT or GENIX_OPCUA_PORT to free ports`);
    }
    throw err;
  }

  // off by default: the demo without GENIX_PUBSUB is as it always was
  let pubsub: DemoPubsub | null = null;
  if (pubsubRequested(process.env)) {
    const host = process.env.GENIX_PUBSUB_PORT ? `127.0.0.1:${process.env.GENIX_PUBSUB_PORT}` : PUBSUB_DEMO.host;
    pubsub = await startDemoPubsub({ host, projectId: PUBSUB_DEMO.projectId, topics: [PUBSUB_DEMO.readingsTopic, PUBSUB_DEMO.alarmsTopic] }, (l) => process.stdout.write(`${l}\n`));
  }

  const flowFile = path.join(userDir, 'flows.json');
  if (process.env.GENIX_KEEP_FLOWS !== '1' || !fs.existsSync(flowFile)) {
    const flow = buildDemoFlow({
      types: availableTypes(path.join(repoRoot, 'dist', 'nodes')),
      sensorBrokerUrl: plant.sensorBrokerUrl,
      cloudBrokerUrl: plant.cloudBrokerUrl,
      opcuaEndpointUrl: plant.opcuaEndpointUrl,
      lines: plantOpts.lines ?? 2,
      rateMs: plantOpts.rateMs ?? 100,
      dashboard: dashboardDir() !== null,
    });
    if (pubsub) flow.push(...example6({ sensorBrokerUrl: plant.sensorBrokerUrl, cloudBrokerUrl: plant.cloudBrokerUrl, opcuaEndpointUrl: plant.opcuaEndpointUrl ?? '' }, pubsub.emulator.host));
    fs.writeFileSync(flowFile, JSON.stringify(flow, null, 2));
  }

  const express = require('express');
  const RED = require('node-red');
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'genix-demo-only',
    uiHost: '127.0.0.1',
    uiPort: port,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    // A plant network cannot answer the first-run questions: no telemetry consent dialog, no tour.
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    // palette.catalogues: [] — the palette manager would fetch the flow library's catalogue from the
    // internet on every editor load; a plant network answers with an error (install by upload or npm).
    editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] }, page: { title: 'genix demo' }, header: { title: 'genix — simulated plant' } },
    logging: { console: { level: process.env.GENIX_LOG_LEVEL || 'info', metrics: false, audit: false } },
    functionExternalModules: false,
    externalModules: { autoInstall: false, palette: { allowInstall: true } },
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: any) => reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set GENIX_PORT to a free port`) : err));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await RED.start();

  const editor = `http://127.0.0.1:${port}/`;
  process.stdout.write(
    [
      '',
      'genix demo is running',
      `  Node-RED editor   ${editor}`,
      dashboardDir() ? `  dashboard         http://127.0.0.1:${port}/dashboard` : '  dashboard         not installed (npm install @flowfuse/node-red-dashboard)',
      `  sensors (MQTT)    ${plant.sensorBrokerUrl}  topic sensors/<sensorId>/data, ${plant.signals.sensors.length} sensors every ${plant.signals.rateMs} ms`,
      `  PLC (OPC-UA)      ${plant.opcuaEndpointUrl ?? 'not available'}`,
      `  cloud (MQTT)      ${plant.cloudBrokerUrl}`,
      ...(pubsub ? pubsub.lines : []),
      `  injected faults   ${plantOpts.truthFile}`,
      `  user directory    ${userDir}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping Node-RED and the simulated plant\n`);
    const force = setTimeout(() => process.exit(1), 15000);
    force.unref();
    try {
      await RED.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await plant.stop();
      if (pubsub) await pubsub.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`genix demo: ${err && err.message ? err.message : err}\n`);
    process.exit(1);
  });
}
