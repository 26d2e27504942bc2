// A default MQTT client id that differs on every gateway, even when they all import the same flow:
// the host name plus a random installation id kept in the Node-RED user directory.
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';

export const INSTALLATION_FILE = '.genix-installation-id';

const cache = new Map<string, string>();

/**
 * This installation's random id, created on first use as `<userDir>/.genix-installation-id`.
 * When the directory is not writable the id lives only as long as the process (and `persisted` is false).
 */
export function installationId(userDir: string): { id: string; persisted: boolean } {
  const file = path.join(userDir, INSTALLATION_FILE);
  const known = cache.get(file);
  if (known) return { id: known, persisted: true };
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{16,64}$/.test(text)) {
      cache.set(file, text);
      return { id: text, persisted: true };
    }
  } catch { /* first start: created below */ }
  const id = crypto.randomBytes(12).toString('hex');
  try {
    fs.mkdirSync(userDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, id + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
    cache.set(file, id);
    return { id, persisted: true };
  } catch {
    return { id, persisted: false };
  }
}

/** `genix-<host>-<8 hex>`: the hex part is fixed per installation and endpoint node, different between gateways. */
export function defaultClientId(installation: string, nodeId: string, host = os.hostname()): string {
  const h = host.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24).replace(/^-+|-+$/g, '') || 'host';
  const suffix = crypto.createHash('sha256').update(`${installation}:${nodeId}`).digest('hex').slice(0, 8);
  return `genix-${h}-${suffix}`;
}

/** A config node id as Node-RED makes them (hex, optionally with a dot); anything else is refused. */
export function validNodeId(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9A-Za-z_.-]{1,64}$/.test(v);
}
