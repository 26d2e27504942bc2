// What an editor request (browse, server certificate, trust) may use. The rule: an endpoint's stored
// secrets (password, X.509 user certificate) and the gateway's client certificate go only to the URL
// they were deployed for, with that endpoint's own security settings; any other URL gets only what
// the request itself typed.
import { RequestError, stringField, enumField, booleanField, numericField, objectField } from '../common/admin-request';
import { numberOr } from '../common/numbers';
import type { EndpointSettings, SecurityModeName, SecurityPolicyName, AuthType } from './connect-options';

/** The editor sends this in place of a password it does not show. */
export const PASSWORD_PLACEHOLDER = '__PWRD__';

const MODES: readonly SecurityModeName[] = ['None', 'Sign', 'SignAndEncrypt'];
const POLICIES: readonly SecurityPolicyName[] = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'];
const AUTH: readonly AuthType[] = ['anonymous', 'username', 'certificate'];
const URL_RE = /^opc\.tcp:\/\/[^/\s]+\S*$/;
/** an editor request never waits longer than this for the server */
export const EDITOR_TIMEOUT_MS = 10000;

/** A deployed endpoint as the routes see it: its settings (with credentials) and trust mode. */
export interface DeployedEndpoint { settings: EndpointSettings; accept: boolean }

export interface EditorRequest {
  /** id of the endpoint node the editor dialog belongs to */
  endpointId?: string;
  /** what a short-lived client uses */
  settings: EndpointSettings;
  /** accept any server certificate (lab PKI) */
  accept: boolean;
  /** true when the deployed endpoint's stored secrets are in `settings` */
  storedSecrets: boolean;
  /** browse: the node to open */
  nodeId: string;
  /** trust: the certificate the user was shown */
  thumbprint?: string;
}

/**
 * Validates an editor request body and decides which credentials it may use.
 * `deployedFor(id)` returns the deployed endpoint with that id, if any.
 */
export function parseEditorRequest(body: Record<string, unknown>, deployedFor: (id: string) => DeployedEndpoint | undefined, opts: { session: boolean } = { session: true }): EditorRequest {
  const endpointId = stringField(body, 'endpoint', { max: 64, pattern: /^[\w.-]+$/, hint: 'is not a node id' });
  const nodeId = stringField(body, 'nodeId', { max: 4096 }) ?? 'i=85';
  const thumbprint = stringField(body, 'thumbprint', { max: 40, pattern: /^[0-9a-fA-F]{40}$/, hint: 'must be 40 hexadecimal digits' })?.toLowerCase();
  const cfg = objectField(body, 'config');
  const url = stringField(cfg, 'endpointUrl', { max: 2048, required: true, pattern: URL_RE, hint: 'must look like opc.tcp://host:port/path' }, 'config')!.trim();
  const securityMode = enumField(cfg, 'securityMode', MODES, 'config') ?? 'None';
  const policy = enumField(cfg, 'securityPolicy', POLICIES, 'config');
  const authType = enumField(cfg, 'authType', AUTH, 'config') ?? 'anonymous';
  const username = stringField(cfg, 'username', { max: 256 }, 'config');
  const password = stringField(cfg, 'password', { max: 1024 }, 'config');
  const certFile = stringField(cfg, 'userCertificateFile', { max: 1024 }, 'config');
  const keyFile = stringField(cfg, 'userPrivateKeyFile', { max: 1024 }, 'config');
  const accept = booleanField(cfg, 'acceptUnknownCertificates', 'config') ?? false;
  const timeout = Math.min(numberOr(numericField(cfg, 'requestTimeoutMs', 'config'), EDITOR_TIMEOUT_MS, { positive: true }), EDITOR_TIMEOUT_MS);
  const typedPassword = password !== undefined && password !== PASSWORD_PLACEHOLDER ? password : undefined;

  if (!opts.session) {
    // fetching or trusting the server's certificate opens no session: no user, no secret
    const settings: EndpointSettings = { endpointUrl: url, securityMode, securityPolicy: securityMode === 'None' ? 'None' : (policy && policy !== 'None' ? policy : 'Basic256Sha256'), authType: 'anonymous', requestTimeoutMs: timeout };
    return { endpointId, nodeId, thumbprint, settings, accept, storedSecrets: false };
  }
  const deployed = endpointId ? deployedFor(endpointId) : undefined;
  const sameUrl = deployed !== undefined && deployed.settings.endpointUrl === url;
  const base = { endpointId, nodeId, thumbprint };

  // the deployed endpoint's own URL and no new secret typed: its stored settings, all of them
  const wantsStored = (authType === 'username' && typedPassword === undefined) || (authType === 'certificate' && !certFile && !keyFile);
  if (sameUrl && wantsStored && deployed!.settings.authType === authType) {
    return { ...base, settings: { ...deployed!.settings, requestTimeoutMs: timeout }, accept: deployed!.accept, storedSecrets: true };
  }

  const typed: EndpointSettings = {
    endpointUrl: url,
    securityMode,
    securityPolicy: securityMode === 'None' ? 'None' : (policy && policy !== 'None' ? policy : 'Basic256Sha256'),
    authType,
    requestTimeoutMs: timeout,
  };
  if (authType === 'username') {
    if (typedPassword === undefined) {
      throw new RequestError(sameUrl
        ? 'the stored password belongs to the deployed user name and authentication: type the password to try other settings'
        : 'a stored password is sent only to the URL its endpoint was deployed with: type the password to browse this URL');
    }
    typed.username = username ?? '';
    typed.password = typedPassword;
  } else if (authType === 'certificate') {
    // the X.509 user certificate is the PLC's identity: it is offered to its deployed URL only
    if (!sameUrl) throw new RequestError('X.509 user authentication is used only with the URL its endpoint is deployed for: deploy first, or browse anonymously');
    if (!certFile || !keyFile) throw new RequestError('config.userCertificateFile and config.userPrivateKeyFile are required for certificate authentication');
    typed.userCertificateFile = certFile;
    typed.userPrivateKeyFile = keyFile;
  }
  return { ...base, settings: typed, accept, storedSecrets: false };
}
