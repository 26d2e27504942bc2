// Which credentials an editor request may use (pure rules; the e2e test proves them on the wire).
import assert from 'assert';
import { parseEditorRequest, DeployedEndpoint } from '../../nodes/lib/opcua/editor-request';
import { RequestError, scopeAllows } from '../../nodes/lib/common/admin-request';

const PLC = 'opc.tcp://plc:4840/UA';
const deployed: DeployedEndpoint = {
  settings: { endpointUrl: PLC, securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss', authType: 'username', username: 'op', password: 'stored-secret' },
  accept: false,
};
const lookup = (id: string) => (id === 'ep' ? deployed : undefined);
const refused = (body: object, re: RegExp, session = true) => assert.throws(() => parseEditorRequest(body as any, lookup, { session }), (e: unknown) => e instanceof RequestError && e.status === 400 && re.test(e.message));

describe('opcua editor requests', () => {
  it('uses the stored secret only on its deployed URL, with the deployed security (accept-any from the body ignored)', () => {
    const r = parseEditorRequest({ endpoint: 'ep', config: { endpointUrl: PLC, authType: 'username', password: '__PWRD__', securityMode: 'None', acceptUnknownCertificates: true } }, lookup);
    assert.strictEqual(r.storedSecrets, true);
    assert.strictEqual(r.settings.password, 'stored-secret');
    assert.strictEqual(r.settings.securityMode, 'SignAndEncrypt');
    assert.strictEqual(r.accept, false);
  });

  it('never attaches the stored secret to another URL or an undeployed endpoint', () => {
    refused({ endpoint: 'ep', config: { endpointUrl: 'opc.tcp://elsewhere:4840', authType: 'username', password: '__PWRD__' } }, /type the password/);
    refused({ endpoint: 'ep', config: { endpointUrl: 'opc.tcp://elsewhere:4840', authType: 'username' } }, /type the password/);
    refused({ endpoint: 'other', config: { endpointUrl: PLC, authType: 'username', password: '__PWRD__' } }, /type the password/);
    refused({ endpoint: 'ep', config: { endpointUrl: 'opc.tcp://elsewhere:4840', authType: 'certificate', userCertificateFile: '/a', userPrivateKeyFile: '/b' } }, /deploy first/);
    const typed = parseEditorRequest({ endpoint: 'ep', config: { endpointUrl: 'opc.tcp://elsewhere:4840', authType: 'username', username: 'u', password: 'typed', acceptUnknownCertificates: true } }, lookup);
    assert.deepStrictEqual([typed.storedSecrets, typed.settings.username, typed.settings.password, typed.accept], [false, 'u', 'typed', true]);
  });

  it('certificate requests carry no user at all', () => {
    const r = parseEditorRequest({ endpoint: 'ep', config: { endpointUrl: PLC, authType: 'username', password: '__PWRD__' } }, lookup, { session: false });
    assert.deepStrictEqual([r.settings.authType, r.settings.username, r.settings.password, r.storedSecrets], ['anonymous', undefined, undefined, false]);
  });

  it('checks types, lengths and values, and caps the editor timeout', () => {
    refused({ config: {} }, /config\.endpointUrl is required/);
    refused({ config: { endpointUrl: 'opc.tcp://h', username: 'x'.repeat(300), authType: 'username', password: 'p' } }, /config\.username is longer than 256/);
    refused({ config: { endpointUrl: 'opc.tcp://h', authType: 'kerberos' } }, /authType must be one of/);
    refused({ endpoint: 'a b', config: { endpointUrl: 'opc.tcp://h' } }, /not a node id/);
    refused({ config: { endpointUrl: 'opc.tcp://h', requestTimeoutMs: { n: 1 } } }, /requestTimeoutMs must be a number/);
    assert.strictEqual(parseEditorRequest({ config: { endpointUrl: 'opc.tcp://h', requestTimeoutMs: 600000 } }, lookup).settings.requestTimeoutMs, 10000);
  });

  it('reads Node-RED permission scopes as Node-RED does', () => {
    assert.strictEqual(scopeAllows('*', 'genix-opcua-endpoint.write'), true);
    assert.strictEqual(scopeAllows('read', 'genix-opcua-endpoint.write'), false);
    assert.strictEqual(scopeAllows('read', 'genix-store-forward.read'), true);
    assert.strictEqual(scopeAllows(['flows.read', 'genix-opcua-endpoint.write'], 'genix-opcua-endpoint.write'), true);
    assert.strictEqual(scopeAllows(['flows.read'], 'genix-store-forward.read'), false);
    assert.strictEqual(scopeAllows(undefined, 'genix-store-forward.read'), false);
  });
});
