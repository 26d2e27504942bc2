// OPC-UA test fixtures: the simulated plant on a free port and a temporary Node-RED user directory.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from './net';
import { startPlantOpcuaServer, PlantOpcuaOptions, PlantOpcuaServer } from '../../scripts/plant/opcua-server';

export async function startPlant(opts: Partial<PlantOpcuaOptions> = {}): Promise<PlantOpcuaServer> {
  const port = opts.port ?? (await freePort());
  return startPlantOpcuaServer({ ...opts, port });
}

export function tempUserDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genix-opcua-user-'));
}

/** Endpoint timing for tests: outages are detected and repaired in about a second. */
export const fastTiming = {
  sessionTimeoutMs: 3000,
  keepAliveMs: 500,
  watchdogMs: 2000,
  backoffMinMs: 200,
  backoffMaxMs: 1000,
  requestTimeoutMs: 3000,
};

/**
 * Mocha hooks for a node test file: the plant and the test helper's runtime (with a temp userDir)
 * start before the tests and stop after them; flows are unloaded after each test.
 * `endpoint(extra)` is an anonymous, unsecured endpoint config node (id 'ep') for that plant.
 */
export function usePlantAndRuntime(): { plant(): PlantOpcuaServer; endpoint(extra?: object): object; userDir: string } {
  const helper = require('node-red-node-test-helper');
  let plant: PlantOpcuaServer;
  const userDir = tempUserDir();
  before(async () => {
    plant = await startPlant();
    helper.settings({ userDir });
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await plant.stop();
  });
  afterEach(async () => { await helper.unload(); });
  return {
    userDir,
    plant: () => plant,
    endpoint: (extra: object = {}) => ({
      id: 'ep', type: 'genix-opcua-endpoint', endpointUrl: plant.endpointUrl, securityMode: 'None', securityPolicy: 'None',
      authType: 'anonymous', acceptUnknownCertificates: false, ...fastTiming, ...extra,
    }),
  };
}
