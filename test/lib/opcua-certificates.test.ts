// The certificate helper (node-opcua-client's crypto_utils and Node's crypto) against Node's own X.509 parser as the oracle: PEM and
// DER files, chains, thumbprints, subject, applicationUri, expiry and key match.
import assert from 'assert';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import {
  firstCertificate, readCertificateFile, certificateThumbprint, certificateSubject, certificateUris,
  certificateNotAfter, keyMatchesCertificate,
} from '../../nodes/lib/opcua/certificates';
import { ensureOwnCertificate, openClientPki, ownCertificateValid, pkiRoot } from '../../nodes/lib/opcua/pki';

describe('opcua certificates', function () {
  this.timeout(30000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-certs-'));
  const pem = path.join(dir, 'a.pem');
  const otherPem = path.join(dir, 'b.pem');
  let key: string;
  let otherKey: string;

  before(async () => {
    for (const [file, root, uri] of [[pem, 'pa', 'urn:genix:test:a'], [otherPem, 'pb', 'urn:genix:test:b']]) {
      const pki = await openClientPki(path.join(dir, root), false);
      await pki.manager.createSelfSignedCertificate({ applicationUri: uri, subject: `/CN=${root}/O=genix`, dns: [], outputFile: file, startDate: new Date(), validity: 30 });
      if (file === pem) key = pki.manager.privateKey; else otherKey = pki.manager.privateKey;
      await pki.dispose();
    }
  });

  it('reads PEM and DER alike, and the first certificate of a chain', () => {
    const x = new crypto.X509Certificate(fs.readFileSync(pem));
    const der = readCertificateFile(pem);
    assert.ok(der.equals(x.raw));
    const derFile = path.join(dir, 'a.der');
    fs.writeFileSync(derFile, x.raw);
    assert.ok(readCertificateFile(derFile).equals(x.raw));
    const other = new crypto.X509Certificate(fs.readFileSync(otherPem)).raw;
    assert.ok(firstCertificate(Buffer.concat([x.raw, other])).equals(x.raw), 'DER chain');
    assert.ok(firstCertificate(fs.readFileSync(pem, 'utf8') + fs.readFileSync(otherPem, 'utf8')).equals(x.raw), 'PEM chain');
    assert.ok(firstCertificate(fs.readFileSync(pem)).equals(x.raw), 'PEM bytes');
  });

  it('thumbprint, subject, applicationUri and expiry match what Node reads', () => {
    const x = new crypto.X509Certificate(fs.readFileSync(pem));
    const der = x.raw;
    assert.strictEqual(certificateThumbprint(der), x.fingerprint.replace(/:/g, '').toLowerCase());
    assert.deepStrictEqual(certificateSubject(der).split(', ').sort(), x.subject.split('\n').sort());
    assert.deepStrictEqual(certificateUris(der), ['urn:genix:test:a']);
    assert.strictEqual(certificateNotAfter(der).getTime(), Date.parse(x.validTo));
    assert.strictEqual(certificateSubject(Buffer.from('not a certificate')), '');
  });

  it('reading a key leaves OPENSSL_CONF as it was (unset stays unset), so openssl started later still works', () => {
    const saved = process.env.OPENSSL_CONF;
    delete process.env.OPENSSL_CONF;
    try {
      keyMatchesCertificate(readCertificateFile(pem), key);
      assert.strictEqual(Object.prototype.hasOwnProperty.call(process.env, 'OPENSSL_CONF'), false, `OPENSSL_CONF left as ${JSON.stringify(process.env.OPENSSL_CONF)}`);
      process.env.OPENSSL_CONF = '/etc/ssl/openssl.cnf';
      keyMatchesCertificate(readCertificateFile(pem), key);
      assert.strictEqual(process.env.OPENSSL_CONF, '/etc/ssl/openssl.cnf');
    } finally {
      if (saved === undefined) delete process.env.OPENSSL_CONF;
      else process.env.OPENSSL_CONF = saved;
    }
  });

  it('creating the client certificate through node-opcua\'s PKI leaves OPENSSL_CONF unset too', async function () {
    this.timeout(60000);
    const saved = process.env.OPENSSL_CONF;
    delete process.env.OPENSSL_CONF;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pki-env-'));
    try {
      await ensureOwnCertificate(pkiRoot(dir, false), 'urn:genix:test:env');
      assert.strictEqual(Object.prototype.hasOwnProperty.call(process.env, 'OPENSSL_CONF'), false, `OPENSSL_CONF left as ${JSON.stringify(process.env.OPENSSL_CONF)}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      if (saved === undefined) delete process.env.OPENSSL_CONF;
      else process.env.OPENSSL_CONF = saved;
    }
  });

  it('tells a matching key from another one', () => {
    const der = readCertificateFile(pem);
    assert.strictEqual(keyMatchesCertificate(der, key), true);
    assert.strictEqual(keyMatchesCertificate(der, otherKey), false);
    assert.strictEqual(ownCertificateValid(pem, key, 'urn:genix:test:a'), true);
    assert.strictEqual(ownCertificateValid(pem, otherKey, 'urn:genix:test:a'), false);
    assert.strictEqual(ownCertificateValid(pem, key, 'urn:genix:test:other'), false);
  });
});
