// Client PKI: where our certificate lives, which server certificates we trust, and the trust flow.
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { readCertificateFile, certificateThumbprint, certificateUris, certificateNotAfter, keyMatchesCertificate, firstCertificate, keepOpensslConfAsync } from './certificates';

/**
 * node-opcua-certificate-manager is a dependency of node-opcua-client; it is resolved from there
 * so that this package needs no direct dependency of its own on it.
 */
export function loadCertificateManagerClass(): any {
  const clientDir = path.dirname(require.resolve('node-opcua-client/package.json'));
  const modPath = require.resolve('node-opcua-certificate-manager', { paths: [clientDir] });
  return require(modPath).OPCUACertificateManager;
}

/** `<userDir>/genix-opcua/pki` for strict endpoints; lab endpoints get a folder of their own. */
export function pkiRoot(userDir: string, acceptUnknownCertificates: boolean): string {
  return path.join(userDir, 'genix-opcua', acceptUnknownCertificates ? 'pki-accept-any' : 'pki');
}

export interface ClientPki {
  root: string;
  manager: any;
  dispose(): Promise<void>;
}

interface SharedManager { manager: any; ready: Promise<void>; refs: number }
// one certificate manager per PKI folder in this process, so that a certificate trusted through
// the editor is seen at once by every endpoint using that folder
const shared = new Map<string, SharedManager>();

export async function openClientPki(root: string, acceptUnknownCertificates: boolean): Promise<ClientPki> {
  let entry = shared.get(root);
  if (!entry) {
    fs.mkdirSync(root, { recursive: true });
    const Manager = loadCertificateManagerClass();
    const manager = new Manager({
      rootFolder: root,
      automaticallyAcceptUnknownCertificate: acceptUnknownCertificates,
      disableFileWatchers: true,
    });
    entry = { manager, ready: keepOpensslConfAsync(() => manager.initialize()), refs: 0 };
    shared.set(root, entry);
  }
  entry.refs++;
  const e = entry;
  await e.ready;
  let disposed = false;
  return {
    root,
    manager: e.manager,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      e.refs--;
      if (e.refs === 0 && shared.get(root) === e) {
        shared.delete(root);
        await e.manager.dispose();
      }
    },
  };
}

export const CLIENT_APPLICATION_NAME = 'genix-node-red-iiot';

/** `urn:<host>:genix-node-red-iiot`, kept under 64 characters as OpenSSL-based stacks require. */
export function clientApplicationUri(hostname = os.hostname(), name = CLIENT_APPLICATION_NAME): string {
  const host = hostname.length + 7 + name.length >= 64
    ? crypto.createHash('md5').update(hostname).digest('hex').substring(0, 16)
    : hostname;
  return `urn:${host}:${name}`;
}

/** The editor's own identity, used towards URLs no deployed endpoint is configured for. */
export const EDITOR_APPLICATION_NAME = 'genix-node-red-iiot-editor';

/** The client's own application instance certificate and key (PEM files) and the URI it carries. */
export interface OwnCertificate {
  certificateFile: string;
  privateKeyFile: string;
  applicationUri: string;
}

/** True when the certificate names this applicationUri, matches the key and has not expired. */
export function ownCertificateValid(certificateFile: string, privateKeyFile: string, applicationUri: string): boolean {
  try {
    const der = readCertificateFile(certificateFile);
    if (!certificateUris(der).includes(applicationUri)) return false;
    if (certificateNotAfter(der).getTime() <= Date.now()) return false;
    return keyMatchesCertificate(der, privateKeyFile);
  } catch {
    return false;
  }
}

const ownInFlight = new Map<string, Promise<OwnCertificate>>();

/**
 * Creates (once) the client's certificate under `<root>/own/certs`, signed with the PKI's own key
 * and carrying the applicationUri in its subjectAltName; an unusable one is set aside and replaced.
 */
export function ensureOwnCertificate(root: string, applicationUri = clientApplicationUri(), log?: (m: string) => void): Promise<OwnCertificate> {
  const key = `${root}|${applicationUri}`;
  let p = ownInFlight.get(key);
  if (!p) {
    p = keepOpensslConfAsync(() => createOwnCertificate(root, applicationUri, log)).finally(() => ownInFlight.delete(key));
    ownInFlight.set(key, p);
  }
  return p;
}

async function createOwnCertificate(root: string, applicationUri: string, log?: (m: string) => void): Promise<OwnCertificate> {
  const certificateFile = path.join(root, 'own', 'certs', 'client_certificate.pem');
  const privateKeyFile = path.join(root, 'own', 'private', 'private_key.pem');
  if (ownCertificateValid(certificateFile, privateKeyFile, applicationUri)) return { certificateFile, privateKeyFile, applicationUri };
  const pki = await openClientPki(root, false);
  try {
    if (ownCertificateValid(certificateFile, privateKeyFile, applicationUri)) return { certificateFile, privateKeyFile, applicationUri };
    if (fs.existsSync(certificateFile)) {
      const aside = `${certificateFile}.replaced-${Date.now()}`;
      fs.renameSync(certificateFile, aside);
      log?.(`the client certificate did not match ${applicationUri} or its key, or had expired; kept as ${aside}, creating a new one`);
    }
    const host = os.hostname();
    await pki.manager.createSelfSignedCertificate({
      applicationUri,
      dns: [host],
      outputFile: certificateFile,
      subject: `/CN=${`${CLIENT_APPLICATION_NAME}@${host}`.substring(0, 63)}/O=genix`,
      startDate: new Date(),
      validity: 365 * 10,
    });
    if (!ownCertificateValid(certificateFile, pki.manager.privateKey ?? privateKeyFile, applicationUri)) {
      throw new Error(`the new client certificate ${certificateFile} does not carry ${applicationUri}`);
    }
    log?.(`created the client certificate ${certificateFile} for ${applicationUri}`);
    return { certificateFile, privateKeyFile: pki.manager.privateKey ?? privateKeyFile, applicationUri };
  } catch (err) {
    throw new Error(`cannot create the client's own certificate in ${root}: ${(err as Error).message}`);
  } finally {
    await pki.dispose();
  }
}

export type TrustStatus = 'trusted' | 'rejected' | 'unknown';

function filesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

function folderHolds(dir: string, thumbprint: string): boolean {
  for (const f of filesIn(dir)) {
    try {
      if (certificateThumbprint(readCertificateFile(f)) === thumbprint) return true;
    } catch {
      // unreadable file: not ours
    }
  }
  return false;
}

/** Where a server certificate stands in this PKI, read from the store's folders. */
export function trustStatus(root: string, der: Buffer): TrustStatus {
  const tp = certificateThumbprint(firstCertificate(der));
  if (folderHolds(path.join(root, 'trusted', 'certs'), tp)) return 'trusted';
  if (folderHolds(path.join(root, 'rejected'), tp)) return 'rejected';
  return 'unknown';
}

/** Moves/copies the server certificate into trusted/ (the admin "trust" button). */
export async function trustServerCertificate(root: string, der: Buffer): Promise<void> {
  const pki = await openClientPki(root, false);
  try {
    await pki.manager.trustCertificate(firstCertificate(der));
  } finally {
    await pki.dispose();
  }
}
