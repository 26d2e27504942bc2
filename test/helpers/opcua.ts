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
