// The client's own certificate: created once under the Node-RED user directory, carrying the
// client's applicationUri, and used by every client (endpoint, browse, certificate check).
import assert from 'assert';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startPlant, tempUserDir } from '../helpers/opcua';
import { startProc } from '../helpers/proc';
import { ensureOwnCertificate, ownCertificateValid } from '../../nodes/lib/opcua/pki';

const uriOf = (der: Buffer): string | undefined => /URI:([^,\s]+)/.exec(new crypto.X509Certificate(der).subjectAltName ?? '')?.[1];

describe('genix-opcua client certificate', function () {
  this.timeout(60000);

  it('lives under <userDir>/genix-opcua/pki/own, names the applicationUri the server sees, and nothing goes to node-opcua\'s default PKI', async () => {
    const plant = await startPlant({ securityModes: ['None', 'SignAndEncrypt'], securityPolicies: ['None', 'Basic256Sha256'] });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-opcua-home-'));
    const userDir = tempUserDir();
    const seen: Array<{ claimed: string; certUri?: string; mode: number }> = [];
    plant.server.on('create_session', (session: any) => {
      const cert: Buffer | null = session.channel?.clientCertificate ?? null;
      seen.push({ claimed: session.clientDescription?.applicationUri, certUri: cert ? uriOf(cert) : undefined, mode: session.channel?.securityMode });
    });
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, USERPROFILE: home };
      delete env.XDG_CONFIG_HOME;
      const child = startProc(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '../helpers/opcua-own-cert-child.ts'), userDir, plant.endpointUrl], { env, cwd: path.join(__dirname, '../..') });
      await child.waitForOutput(/^(RESULT|FAILED) /m, 45000).finally(() => child.stop('SIGTERM', 5000));
      const result = /^RESULT (.*)/m.exec(child.output());
      assert.ok(result, `child failed:\n${child.output().slice(-3000)}`);
      assert.ok(JSON.parse(result[1]).good > 0);

      const own = path.join(userDir, 'genix-opcua', 'pki', 'own');
      const certFile = path.join(own, 'certs', 'client_certificate.pem');
      const keyFile = path.join(own, 'private', 'private_key.pem');
      assert.ok(fs.existsSync(certFile) && fs.existsSync(keyFile), 'certificate and key under the user directory');
      // the URI is written out here, not taken from the code under test: urn:<host>:genix-node-red-iiot (a long host name hashed to 16 hex digits)
      const host = os.hostname().length + 7 + 'genix-node-red-iiot'.length >= 64 ? crypto.createHash('md5').update(os.hostname()).digest('hex').substring(0, 16) : os.hostname();
      const expectedUri = `urn:${host}:genix-node-red-iiot`;
      assert.ok(ownCertificateValid(certFile, keyFile, expectedUri), `certificate names ${expectedUri} and matches the key`);
      assert.ok(!fs.existsSync(path.join(home, '.config', 'node-opcua-default-nodejs')), `nothing under ${home}/.config: ${fs.existsSync(path.join(home, '.config')) ? fs.readdirSync(path.join(home, '.config')) : '-'}`);

      const secure = seen.filter((s) => s.mode === 3);
      assert.ok(secure.length >= 2, `the endpoint's and the browse session were SignAndEncrypt (${JSON.stringify(seen)})`);
      for (const s of seen) {
        assert.strictEqual(s.claimed, expectedUri);
        if (s.mode === 3) assert.strictEqual(s.certUri, s.claimed, 'the certificate URI the server sees is the client applicationUri');
      }
    } finally {
      await plant.stop();
    }
  });

  it('creates the certificate once and replaces one whose URI does not match', async () => {
    const root = path.join(tempUserDir(), 'genix-opcua', 'pki');
    const a = await ensureOwnCertificate(root, 'urn:test-host:genix-node-red-iiot');
    const first = fs.readFileSync(a.certificateFile);
    const [b, c] = await Promise.all([ensureOwnCertificate(root, a.applicationUri), ensureOwnCertificate(root, a.applicationUri)]);
    assert.deepStrictEqual(fs.readFileSync(b.certificateFile), first, 'kept, not recreated');
    assert.strictEqual(c.certificateFile, a.certificateFile);
    const d = await ensureOwnCertificate(root, 'urn:other-host:genix-node-red-iiot');
    assert.strictEqual(uriOf(fs.readFileSync(d.certificateFile)), 'urn:other-host:genix-node-red-iiot');
    assert.ok(fs.readdirSync(path.dirname(d.certificateFile)).some((f) => f.startsWith('client_certificate.pem.replaced-')), 'the old one is set aside');
  });
});
