// genix-opcua-endpoint: config node holding the one OPC-UA client + session its pollers share.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import os from 'os';
import path from 'path';
import {
  OpcuaSessionManager, EndpointSettings, GroupOptions, ItemSpec, GroupListener, ItemGroup, userIdentityFor,
} from './lib/opcua/session-manager';
import { pkiRoot, openClientPki, ClientPki, trustServerCertificate, trustStatus, ensureOwnCertificate } from './lib/opcua/pki';
import { browseChildren, fetchServerCertificate, withTransientSession, ClientIdentity } from './lib/opcua/browse';
import { numberOr } from './lib/common/numbers';

interface EndpointDef extends NodeDef {
  endpointUrl: string;
  securityMode: EndpointSettings['securityMode'];
  securityPolicy: EndpointSettings['securityPolicy'];
  authType: EndpointSettings['authType'];
  acceptUnknownCertificates: boolean;
  userCertificateFile?: string;
  userPrivateKeyFile?: string;
  sessionTimeoutMs?: number | string;
  keepAliveMs?: number | string;
  watchdogMs?: number | string;
  backoffMinMs?: number | string;
  backoffMaxMs?: number | string;
  requestTimeoutMs?: number | string;
}

interface Credentials { username?: string; password?: string }

interface EndpointNode extends Node<Credentials> {
  manager: OpcuaSessionManager;
  pkiRoot: string;
  register(poller: Node, options: GroupOptions, items: ItemSpec[], listener: GroupListener): ItemGroup;
  deregister(poller: Node): Promise<void>;
}

const num = (v: unknown, dflt: number | undefined): number | undefined => numberOr(v, dflt, { positive: true });

export = function (RED: NodeAPI) {
  const userDir = (): string => (RED.settings as any).userDir || path.join(os.homedir(), '.node-red');
  // one client identity per Node-RED instance: lab (accept-any) endpoints present the same certificate
  const ownCertificate = (log?: (m: string) => void) => ensureOwnCertificate(pkiRoot(userDir(), false), undefined, log);

  /** A short-lived client's PKI and certificate, for the editor's helpers. */
  async function withIdentity<T>(root: string, accept: boolean, fn: (id: ClientIdentity) => Promise<T>): Promise<T> {
    const own = await ownCertificate();
    const pki = await openClientPki(root, accept);
    try {
      return await fn({ manager: pki.manager, own });
    } finally {
      await pki.dispose();
    }
  }

  function settingsFrom(def: Partial<EndpointDef>, creds: Credentials | undefined): EndpointSettings {
    return {
      endpointUrl: String(def.endpointUrl ?? '').trim(),
      securityMode: def.securityMode || 'None',
      securityPolicy: def.securityMode === 'None' || !def.securityMode ? 'None' : (def.securityPolicy || 'Basic256Sha256'),
      authType: def.authType || 'anonymous',
      username: creds?.username,
      password: creds?.password,
      userCertificateFile: def.userCertificateFile || undefined,
      userPrivateKeyFile: def.userPrivateKeyFile || undefined,
      sessionTimeoutMs: num(def.sessionTimeoutMs, undefined),
      keepAliveMs: num(def.keepAliveMs, undefined),
      watchdogMs: num(def.watchdogMs, undefined),
      backoffMinMs: num(def.backoffMinMs, undefined),
      backoffMaxMs: num(def.backoffMaxMs, undefined),
      requestTimeoutMs: num(def.requestTimeoutMs, undefined),
    };
  }

  function GenixOpcuaEndpoint(this: EndpointNode, def: EndpointDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below run with another `this`
    const node = this;
    const accept = def.acceptUnknownCertificates === true || (def.acceptUnknownCertificates as unknown) === 'true';
    node.pkiRoot = pkiRoot(userDir(), accept);
    let pki: ClientPki | undefined;
    let pkiOpening: Promise<ClientPki> | undefined;
    const settings = settingsFrom(def, node.credentials);
    settings.certificateManager = async () => {
      pkiOpening ??= openClientPki(node.pkiRoot, accept).then((p) => (pki = p));
      return (await pkiOpening).manager;
    };
    settings.ownCertificate = () => ownCertificate((m) => node.log(m));
    settings.log = {
      info: (m) => node.log(m),
      warn: (m) => node.warn(m),
      error: (m) => node.error(m),
    };
    if (accept) node.warn(RED._('genix-opcua-endpoint.warn.acceptAny'));
    node.manager = new OpcuaSessionManager(settings);
    const invalidUrl = !/^opc\.tcp:\/\/[^/\s]+/.test(settings.endpointUrl);
    node.manager.on('status', (s) => {
      if (s.errorKind === 'untrusted') {
        node.error(RED._('genix-opcua-endpoint.errors.untrusted', { url: settings.endpointUrl, pki: path.join(node.pkiRoot, 'trusted', 'certs'), rejected: path.join(node.pkiRoot, 'rejected') }));
      }
    });

    node.register = (poller, options, items, listener) => {
      if (invalidUrl) node.error(RED._('genix-opcua-endpoint.errors.badUrl', { url: settings.endpointUrl }));
      const g = node.manager.register(poller.id, options, items, listener);
      if (invalidUrl) void node.manager.close();
      return g;
    };
    node.deregister = (poller) => node.manager.deregister(poller.id);

    node.on('close', (_removed: boolean, done: () => void) => {
      node.manager.close()
        .then(() => pki?.dispose())
        .catch((err) => node.warn(`close: ${(err as Error).message}`))
        .finally(() => done());
    });
  }

  RED.nodes.registerType('genix-opcua-endpoint', GenixOpcuaEndpoint as any, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  // ---- editor helpers (work before deploy: the editor sends the form's current values) ----

  function requestSettings(body: any): { settings: EndpointSettings; accept: boolean; root: string } {
    const cfg = body?.config ?? {};
    const id = typeof body?.endpoint === 'string' ? body.endpoint : undefined;
    const saved = id ? (RED.nodes.getCredentials(id) as Credentials | undefined) : undefined;
    const deployed = id ? (RED.nodes.getNode(id) as unknown as EndpointNode | null) : null;
    const creds: Credentials = {
      username: cfg.username ?? saved?.username ?? deployed?.credentials?.username,
      // the editor sends __PWRD__ for a password it does not show: use the stored one
      password: cfg.password && cfg.password !== '__PWRD__' ? cfg.password : (saved?.password ?? deployed?.credentials?.password),
    };
    const settings = settingsFrom(cfg, creds);
    if (!/^opc\.tcp:\/\/[^/\s]+/.test(settings.endpointUrl)) throw new Error(`invalid endpoint URL "${settings.endpointUrl}"`);
    const accept = cfg.acceptUnknownCertificates === true || cfg.acceptUnknownCertificates === 'true';
    settings.requestTimeoutMs = Math.min(settings.requestTimeoutMs ?? 10000, 10000);
    return { settings, accept, root: pkiRoot(userDir(), accept) };
  }

  const fail = (res: any, err: unknown, code = 400) => res.status(code).json({ error: (err as Error)?.message ?? String(err) });

  RED.httpAdmin.post('/genix/opcua/browse', RED.auth.needsPermission('genix-opcua-endpoint.read'), async (req: any, res: any) => {
    let r: ReturnType<typeof requestSettings>;
    try { r = requestSettings(req.body); } catch (err) { return fail(res, err); }
    const nodeId = typeof req.body?.nodeId === 'string' && req.body.nodeId ? req.body.nodeId : 'i=85';
    try {
      const deployed = typeof req.body?.endpoint === 'string' ? (RED.nodes.getNode(req.body.endpoint) as unknown as EndpointNode | null) : null;
      const live = deployed?.manager?.session;
      if (live && deployed!.manager.settings.endpointUrl === r.settings.endpointUrl) {
        return res.json({ nodeId, children: await browseChildren(live, nodeId) });
      }
      const children = await withIdentity(r.root, r.accept, (id) => withTransientSession(r.settings, id, userIdentityFor(r.settings), (s) => browseChildren(s, nodeId)));
      res.json({ nodeId, children });
    } catch (err) {
      fail(res, err, 502);
    }
  });

  RED.httpAdmin.post('/genix/opcua/server-certificate', RED.auth.needsPermission('genix-opcua-endpoint.read'), async (req: any, res: any) => {
    let r: ReturnType<typeof requestSettings>;
    try { r = requestSettings(req.body); } catch (err) { return fail(res, err); }
    try {
      const cert = await withIdentity(r.root, r.accept, (id) => fetchServerCertificate(r.settings, id));
      res.json({ thumbprint: cert.thumbprint, subject: cert.subject, status: trustStatus(r.root, cert.der), pki: r.root });
    } catch (err) {
      fail(res, err, 502);
    }
  });

  RED.httpAdmin.post('/genix/opcua/trust', RED.auth.needsPermission('genix-opcua-endpoint.write'), async (req: any, res: any) => {
    let r: ReturnType<typeof requestSettings>;
    try { r = requestSettings(req.body); } catch (err) { return fail(res, err); }
    try {
      const cert = await withIdentity(r.root, r.accept, (id) => fetchServerCertificate(r.settings, id));
      // trust only what the user was shown: the server must still present the same certificate
      if (req.body?.thumbprint && req.body.thumbprint !== cert.thumbprint) return fail(res, new Error('the server now presents a different certificate'), 409);
      await trustServerCertificate(r.root, cert.der);
      const deployed = typeof req.body?.endpoint === 'string' ? (RED.nodes.getNode(req.body.endpoint) as unknown as EndpointNode | null) : null;
      deployed?.manager?.retryNow();
      res.json({ thumbprint: cert.thumbprint, subject: cert.subject, status: 'trusted' });
    } catch (err) {
      fail(res, err, 502);
    }
  });
};
