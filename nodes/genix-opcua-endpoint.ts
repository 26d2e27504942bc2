// genix-opcua-endpoint: config node holding the one OPC-UA client + session its pollers share.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import os from 'os';
import path from 'path';
import {
  OpcuaSessionManager, EndpointSettings, GroupOptions, ItemSpec, GroupListener, ItemGroup, userIdentityFor,
} from './lib/opcua/session-manager';
import {
  pkiRoot, openClientPki, ClientPki, trustServerCertificate, trustStatus, ensureOwnCertificate, clientApplicationUri, EDITOR_APPLICATION_NAME,
} from './lib/opcua/pki';
import { browseChildren, fetchServerCertificate, withTransientSession, ClientIdentity } from './lib/opcua/browse';
import { numberOr } from './lib/common/numbers';
import { jsonBody, requireScope, sendError, RequestError } from './lib/common/admin-request';
import { parseEditorRequest, EditorRequest, DeployedEndpoint } from './lib/opcua/editor-request';
import { routeLibraryLog } from './lib/opcua/library-log';

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
  /** acceptUnknownCertificates as deployed */
  accept: boolean;
  register(poller: Node, options: GroupOptions, items: ItemSpec[], listener: GroupListener): ItemGroup;
  deregister(poller: Node): Promise<void>;
}

const num = (v: unknown, dflt: number | undefined): number | undefined => numberOr(v, dflt, { positive: true });

export = function (RED: NodeAPI) {
  routeLibraryLog((text) => RED.log.debug(text));
  /** endpoints deployed now: their URLs are the ones the gateway's client certificate is offered to */
  const liveEndpoints = new Set<EndpointNode>();
  const userDir = (): string => (RED.settings as any).userDir || path.join(os.homedir(), '.node-red');
  // one client identity per Node-RED instance: lab (accept-any) endpoints present the same certificate
  const ownCertificate = (log?: (m: string) => void) => ensureOwnCertificate(pkiRoot(userDir(), false), undefined, log);

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
    node.accept = accept;
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
    liveEndpoints.add(node);
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
      liveEndpoints.delete(node);
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
  // Stored secrets and the gateway's client certificate go only to the URL they are deployed for
  // (nodes/lib/opcua/editor-request.ts); every route needs the write permission.

  const deployedFor = (id: string): DeployedEndpoint | undefined => {
    const n = RED.nodes.getNode(id) as unknown as EndpointNode | null;
    return n && n.type === 'genix-opcua-endpoint' && n.manager ? { settings: n.manager.settings, accept: n.accept } : undefined;
  };

  /** The gateway's certificate for a URL some deployed endpoint uses; the editor's own elsewhere. */
  const identityFor = (url: string, log?: (m: string) => void) => ([...liveEndpoints].some((n) => n.manager.settings.endpointUrl === url)
    ? ownCertificate(log)
    : ensureOwnCertificate(path.join(userDir(), 'genix-opcua', 'editor-identity'), clientApplicationUri(os.hostname(), EDITOR_APPLICATION_NAME), log));

  /** A short-lived client's PKI and certificate, for the editor's helpers. */
  async function withIdentity<T>(r: EditorRequest, fn: (id: ClientIdentity) => Promise<T>): Promise<T> {
    const own = await identityFor(r.settings.endpointUrl);
    const pki = await openClientPki(pkiRoot(userDir(), r.accept), r.accept);
    try {
      return await fn({ manager: pki.manager, own });
    } finally {
      await pki.dispose();
    }
  }

  /** Authenticates, checks the write permission (403) and the body (400/415), then runs the handler. */
  const route = (name: string, session: boolean, handler: (r: EditorRequest, res: any) => Promise<void>) => {
    RED.httpAdmin.post(`/genix/opcua/${name}`, RED.auth.needsPermission(''), requireScope('genix-opcua-endpoint.write'), (req: any, res: any) => {
      let r: EditorRequest;
      try {
        r = parseEditorRequest(jsonBody(req), deployedFor, { session });
      } catch (err) {
        sendError(res, err);
        return;
      }
      handler(r, res).catch((err) => sendError(res, err, 502));
    });
  };

  route('browse', true, async (r, res) => {
    const deployed = r.endpointId ? (RED.nodes.getNode(r.endpointId) as unknown as EndpointNode | null) : null;
    const live = deployed?.manager?.session;
    const sameIdentity = r.storedSecrets || (r.settings.authType === 'anonymous' && deployed?.manager.settings.authType === 'anonymous');
    if (live && sameIdentity && deployed!.manager.settings.endpointUrl === r.settings.endpointUrl) {
      res.json({ nodeId: r.nodeId, children: await browseChildren(live, r.nodeId) });
      return;
    }
    const children = await withIdentity(r, (id) => withTransientSession(r.settings, id, userIdentityFor(r.settings), (s) => browseChildren(s, r.nodeId)));
    res.json({ nodeId: r.nodeId, children });
  });

  route('server-certificate', false, async (r, res) => {
    const root = pkiRoot(userDir(), r.accept);
    const cert = await withIdentity(r, (id) => fetchServerCertificate(r.settings, id));
    res.json({ thumbprint: cert.thumbprint, subject: cert.subject, status: trustStatus(root, cert.der), pki: root });
  });

  route('trust', false, async (r, res) => {
    const root = pkiRoot(userDir(), r.accept);
    const cert = await withIdentity(r, (id) => fetchServerCertificate(r.settings, id));
    // trust only what the user was shown: the server must still present the same certificate
    if (r.thumbprint && r.thumbprint !== cert.thumbprint) throw new RequestError('the server now presents a different certificate', 409);
    await trustServerCertificate(root, cert.der);
    const deployed = r.endpointId ? (RED.nodes.getNode(r.endpointId) as unknown as EndpointNode | null) : null;
    deployed?.manager?.retryNow();
    res.json({ thumbprint: cert.thumbprint, subject: cert.subject, status: 'trusted' });
  });
};
