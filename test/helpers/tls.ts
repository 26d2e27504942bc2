// A private CA with a server certificate for 127.0.0.1 and a client certificate, made with openssl per test run.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface TestPki {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  serverCert: string;
  serverKey: string;
  cleanup(): void;
}

function ssl(dir: string, args: string[]) {
  // The OPC-UA test servers run in this process, and node-opcua's PKI (not ours: our nodes restore it,
  // see nodes/lib/opcua/certificates.ts) can leave OPENSSL_CONF set to the string "undefined".
  const env = { ...process.env };
  if (env.OPENSSL_CONF === 'undefined') delete env.OPENSSL_CONF;
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
}

export function makePki(clientCn = 'genix-gateway'): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pki-'));
  ssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=genix test CA']);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', clientCn]]) {
    ssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    ssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  // Mosquitto drops root to its own user: it must be able to read these throwaway files
  fs.chmodSync(dir, 0o755);
  for (const n of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, n), 0o644);
  const f = (n: string) => path.join(dir, n);
  const r = (n: string) => fs.readFileSync(f(n), 'utf8');
  return {
    dir,
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    ca: r('ca.crt'),
    clientCert: r('client.crt'),
    clientKey: r('client.key'),
    serverCert: r('server.crt'),
    serverKey: r('server.key'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
