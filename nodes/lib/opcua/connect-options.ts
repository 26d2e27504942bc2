// How to reach an OPC-UA endpoint: its settings, the client options they become, and what a
// connection error means for the user. Shared by the session manager and the editor's browse calls.
import { MessageSecurityMode, SecurityPolicy, UserTokenType } from 'node-opcua-client';
import type { OwnCertificate } from './pki';
import { readCertificateFile, readPrivateKeyFile } from './certificates';

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
export type AuthType = 'anonymous' | 'username' | 'certificate';

export interface EndpointSettings {
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  authType: AuthType;
  username?: string;
  password?: string;
  /** PEM files on the Node-RED host, for authType certificate */
  userCertificateFile?: string;
  userPrivateKeyFile?: string;
  /** an OPCUACertificateManager for the client PKI, or a function that opens one */
  certificateManager?: any;
  /** the client's own certificate, key and applicationUri (or a function that makes sure they exist) */
  ownCertificate?: OwnCertificate | (() => Promise<OwnCertificate>);
  /** session timeout requested from the server, default 60000 */
  sessionTimeoutMs?: number;
  /** session keep-alive period, default 5000 */
  keepAliveMs?: number;
  /** no data and no keep-alive for this long: stale, force reconnect; default 3 × keepAliveMs + 5000 */
  watchdogMs?: number;
  /** first reconnect delay, default 1000 */
  backoffMinMs?: number;
  /** longest reconnect delay, default 30000 */
  backoffMaxMs?: number;
  /** connect and request timeout, default 10000 */
  requestTimeoutMs?: number;
  applicationName?: string;
  log?: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

export type ErrorKind = 'untrusted' | 'auth' | 'config' | 'other';

export const SECURITY_MODES: Record<SecurityModeName, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};
export const SECURITY_POLICIES: Record<SecurityPolicyName, SecurityPolicy> = {
  None: SecurityPolicy.None,
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

export function classifyError(message: string): ErrorKind {
  // An unreachable server is a network problem even when node-opcua was fetching its certificate.
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|cannot be established|Fail(ed)? to connect/i.test(message)) return 'other';
  // our own certificate could not be made (unwritable user directory): a setup problem, not trust
  if (/client's own certificate/i.test(message)) return 'config';
  if (/certificate|BadSecurityChecksFailed|BadCertificate/i.test(message)) return 'untrusted';
  if (/BadUserAccessDenied|BadIdentityToken|identity|password|user/i.test(message)) return 'auth';
  if (/BadSecurityPolicyRejected|BadSecurityModeRejected|cannot find endpoint|endpoint.*not|Invalid endpoint/i.test(message)) return 'config';
  return 'other';
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]);
}

/** The OPC-UA user identity token for these settings (anonymous, username or X.509 files). */
export function userIdentityFor(s: EndpointSettings): any {
  if (s.authType === 'username') return { type: UserTokenType.UserName, userName: s.username ?? '', password: s.password ?? '' };
  if (s.authType === 'certificate') {
    if (!s.userCertificateFile || !s.userPrivateKeyFile) throw new Error('user certificate and private key files are required for certificate authentication');
    return { type: UserTokenType.Certificate, certificateData: readCertificateFile(s.userCertificateFile), privateKey: readPrivateKeyFile(s.userPrivateKeyFile) };
  }
  return { type: UserTokenType.Anonymous };
}

/** OPCUAClient options that make it use our certificate and URI instead of node-opcua's default PKI. */
export function ownCertificateOptions(own: OwnCertificate | undefined): Record<string, string> {
  return own ? { applicationUri: own.applicationUri, certificateFile: own.certificateFile, privateKeyFile: own.privateKeyFile } : {};
}
