// The one place that reads X.509 certificates and keys (PEM or DER, single or chained), through the certificate
// tools node-opcua-client exports (`crypto_utils`, node-opcua-crypto's own, so they follow the client's version)
// and Node's crypto for keys.
import crypto from 'crypto';
import fs from 'fs';
import { crypto_utils } from 'node-opcua-client';

const { convertPEMtoDER, split_der, makeSHA1Thumbprint, exploreCertificate } = crypto_utils;

const PEM_MARK = '-----BEGIN CERTIFICATE-----';

/** DER of the first certificate in a PEM text or a DER buffer (a server may send its chain). */
export function firstCertificate(data: Buffer | string): Buffer {
  const text = typeof data === 'string' ? data : data.includes(PEM_MARK) ? data.toString('utf8') : undefined;
  const der = text !== undefined ? convertPEMtoDER(text) : data as Buffer;
  return split_der(der)[0] ?? der;
}

/** The first certificate of a PEM or DER file, as DER. */
export function readCertificateFile(file: string): Buffer {
  return firstCertificate(fs.readFileSync(file));
}

/** A PEM private key file as text, the form node-opcua's X.509 user token takes. */
export function readPrivateKeyFile(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** SHA-1 thumbprint in lower-case hex, as OPC-UA and node-opcua's PKI folders name certificates. */
export function certificateThumbprint(der: Buffer): string {
  return makeSHA1Thumbprint(firstCertificate(der)).toString('hex');
}

const SHORT: Record<string, string> = {
  countryName: 'C', stateOrProvinceName: 'ST', localityName: 'L', organizationName: 'O',
  organizationalUnitName: 'OU', commonName: 'CN', domainComponent: 'DC',
};

/** "C=FR, O=Plant, CN=PLC-1" in the certificate's own order; '' when it cannot be read. */
export function certificateSubject(der: Buffer): string {
  try {
    const subject = exploreCertificate(firstCertificate(der)).tbsCertificate.subject as { entries?: Array<{ name: string; value: string }> };
    return (subject.entries ?? []).map((e) => `${SHORT[e.name] ?? e.name}=${e.value}`).join(', ');
  } catch {
    return '';
  }
}

/** The URIs in the subjectAltName (an OPC-UA application certificate carries its applicationUri there). */
export function certificateUris(der: Buffer): string[] {
  return exploreCertificate(firstCertificate(der)).tbsCertificate.extensions?.subjectAltName?.uniformResourceIdentifier ?? [];
}

/** When the certificate stops being valid. */
export function certificateNotAfter(der: Buffer): Date {
  return exploreCertificate(firstCertificate(der)).tbsCertificate.validity.notAfter;
}

/** True when the private key file belongs to the certificate. */
export function keyMatchesCertificate(der: Buffer, privateKeyFile: string): boolean {
  return new crypto.X509Certificate(firstCertificate(der)).checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(privateKeyFile)));
}

/**
 * node-opcua-crypto's key reader (used inside node-opcua's PKI) sets OPENSSL_CONF for the call
 * and, where it was unset, leaves the string "undefined" behind: every openssl started later by the
 * Node-RED process (an exec node, a script) would then fail to read its configuration. Put the
 * variable back as it was around every call that may read a key.
 */
export function keepOpensslConf<T>(read: () => T): T {
  const restore = opensslConfRestorer();
  try {
    return read();
  } finally {
    restore();
  }
}

/** keepOpensslConf for an asynchronous operation: restored when it settles. */
export async function keepOpensslConfAsync<T>(run: () => Promise<T>): Promise<T> {
  const restore = opensslConfRestorer();
  try {
    return await run();
  } finally {
    restore();
  }
}

function opensslConfRestorer(): () => void {
  const had = Object.prototype.hasOwnProperty.call(process.env, 'OPENSSL_CONF');
  const before = process.env.OPENSSL_CONF;
  return () => {
    if (had) process.env.OPENSSL_CONF = before;
    else delete process.env.OPENSSL_CONF;
  };
}
