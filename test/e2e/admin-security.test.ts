// Admin routes under a real Node-RED child with adminAuth (a read-only and a full user): every
// genix route refuses the wrong permission with 403 and a bad body with 400/415 (a message, never a
// stack); stored OPC-UA credentials and the gateway's client certificate never reach a foreign server
// (a second node-opcua server records the user names, passwords and client certificates it is
// offered); and no secret shows in the flow export, flows.json, the log, status texts or metrics.
import assert from 'assert';
import crypto from 'crypto';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { OPCUAServer } from 'node-opcua-server';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua-client';
import { startPlant } from '../helpers/opcua';
import { freePort } from '../helpers/net';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { waitFor } from '../helpers/wait';
import { loadCertificateManagerClass } from '../../nodes/lib/opcua/pki';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';

const bcrypt = require('bcryptjs');

const PLC_USER = 'plc-operator';
const PLC_PASSWORD = 'plc-Secret-4711';
const BAD_PASSWORD = 'wrong-Secret-0815';
const CLOUD_PASSWORD = 'mqtt-Secret-2342';
const CLOUD_TOKEN = 'http-Token-9f8e7d';
const SECRETS = [PLC_PASSWORD, BAD_PASSWORD, CLOUD_PASSWORD, CLOUD_TOKEN];

interface Recorder { server: OPCUAServer; url: string; offered: Array<{ user: string; password: string }>; pkiDir: string; stop(): Promise<void> }

/** A foreign OPC-UA server that records every user name/password offered (and refuses them). */
async function startRecordingServer(): Promise<Recorder> {
  const port = await freePort();
  const pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-foreign-pki-'));
  const Manager = loadCertificateManagerClass();
  // strict: every client certificate it is shown lands in its rejected/ folder
  const manager = new Manager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
  await manager.initialize();
  const offered: Recorder['offered'] = [];
  const server = new OPCUAServer({
    port,
    hostname: '127.0.0.1',
    alternateHostname: [],
    resourcePath: '/UA/foreign',
    serverCertificateManager: manager,
    userCertificateManager: manager,
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign],
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    allowAnonymous: true,
    userManager: { isValidUser: (user: string, password: string) => { offered.push({ user, password }); return false; } },
    disableDiscovery: true,
  } as any);
  await server.initialize();
  await server.start();
  return {
    server, url: `opc.tcp://127.0.0.1:${port}/UA/foreign`, offered, pkiDir,
    stop: async () => { await server.shutdown(0); await manager.dispose(); },
  };
}

/** SHA-1 thumbprint of a certificate file (PEM or DER), by Node's own X.509 parser. */
function sha1Of(file: string): string {
  return new crypto.X509Certificate(fs.readFileSync(file)).fingerprint.replace(/:/g, '').toLowerCase();
}

function thumbprintsIn(dir: string): string[] {
  let files: string[] = [];
  try { files = fs.readdirSync(dir); } catch { return []; }
  return files.map((f) => sha1Of(path.join(dir, f)));
}

async function tokenFor(red: RedProcess, username: string, password: string): Promise<string> {
  const res = await fetch(`${red.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }),
  });
  assert.strictEqual(res.status, 200, `token for ${username}: ${res.status}`);
  return ((await res.json()) as any).access_token;
}

describe('admin routes and secrets (real Node-RED with adminAuth)', function () {
  this.timeout(180000);
  let plc: PlantOpcuaServer;
  let foreign: Recorder;
  let sink: http.Server;
  let red: RedProcess;
  let admin: string;
  let viewer: string;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-admin-sec-'));

  const call = async (token: string | undefined, method: string, route: string, body?: unknown, contentType = 'application/json') => {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${red.url}${route}`, {
      method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, text, json };
  };
  const plcConfig = () => ({ endpointUrl: plc.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'username', username: PLC_USER, password: '__PWRD__' });

  before(async function () {
    plc = await startPlant({ users: [{ username: PLC_USER, password: PLC_PASSWORD }], allowAnonymous: false });
    foreign = await startRecordingServer();
    // the "cloud" answers 401 and echoes the Authorization header it got, as careless servers do
    sink = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(401); res.end(`denied: ${req.headers.authorization ?? ''}`); }); });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const sinkPort = (sink.address() as any).port;
    const mqttPort = await freePort();
    const flows = [
      { id: 'tab', type: 'tab', label: 'security' },
      { id: 'ep', type: 'genix-opcua-endpoint', endpointUrl: plc.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'username', acceptUnknownCertificates: false, backoffMinMs: 200, backoffMaxMs: 1000 },
      { id: 'epbad', type: 'genix-opcua-endpoint', endpointUrl: plc.endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'username', acceptUnknownCertificates: false, backoffMinMs: 200, backoffMaxMs: 1000 },
      { id: 'p1', z: 'tab', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'subscribe', intervalMs: 200, output: 'batch', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [[], []] },
      { id: 'p2', z: 'tab', type: 'genix-opcua-poller', endpoint: 'epbad', mode: 'poll', intervalMs: 500, output: 'batch', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T2' }], wires: [[], []] },
      { id: 'cloudmqtt', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: `mqtt://127.0.0.1:${mqttPort}`, clientId: 'sec-test' },
      { id: 'cloudhttp', type: 'genix-cloud-endpoint', protocol: 'http', url: `http://127.0.0.1:${sinkPort}/ingest` },
      { id: 'inj', z: 'tab', type: 'inject', once: true, onceDelay: 0.5, repeat: '1', payloadType: 'json', payload: '{"sensorId":"S","value":1,"ts":1,"quality":"good"}', topic: 'S', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], wires: [['pubm', 'pubh', 'sf']] },
      { id: 'pubm', z: 'tab', type: 'genix-cloud-publisher', endpoint: 'cloudmqtt', topic: 'plant/{sensorId}', qos: 1, wires: [['dbg']] },
      { id: 'pubh', z: 'tab', type: 'genix-cloud-publisher', endpoint: 'cloudhttp', topic: 'plant/{sensorId}', qos: 1, wires: [['dbg']] },
      { id: 'sf', z: 'tab', type: 'genix-store-forward', wires: [[]] },
      // every status text and every caught error goes to the log, where the test reads it
      { id: 'st', z: 'tab', type: 'status', scope: null, wires: [['dbg']] },
      { id: 'ct', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['dbg']] },
      { id: 'dbg', z: 'tab', type: 'debug', active: true, tosidebar: false, console: true, complete: 'true' },
    ];
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({
      ep: { username: PLC_USER, password: PLC_PASSWORD },
      epbad: { username: PLC_USER, password: BAD_PASSWORD },
      cloudmqtt: { username: 'gateway', password: CLOUD_PASSWORD },
      cloudhttp: { token: CLOUD_TOKEN },
    }));
    red = await startRedProcess({
      userDir,
      flows,
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'viewer', password: bcrypt.hashSync('viewer-pw', 8), permissions: 'read' },
            { username: 'admin', password: bcrypt.hashSync('admin-pw', 8), permissions: '*' },
            { username: 'flowsonly', password: bcrypt.hashSync('flows-pw', 8), permissions: ['flows.read'] },
          ],
        },
        logging: { console: { level: 'debug', metrics: false, audit: true } },
      },
    });
    admin = await tokenFor(red, 'admin', 'admin-pw');
    viewer = await tokenFor(red, 'viewer', 'viewer-pw');
    // the deployed endpoint is connected with its stored credentials
    await waitFor(() => plc.sessionCount() >= 1, 'a PLC session', 30000);
  });

  after(async () => {
    await red?.stop();
    await foreign?.stop();
    await plc?.stop();
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
  });

  const opcuaRoutes = ['/genix/opcua/browse', '/genix/opcua/server-certificate', '/genix/opcua/trust'];

  it('every genix route: 401 without a token, 403 for a user without its permission, a message not a stack', async () => {
    for (const route of opcuaRoutes) {
      const anon = await call(undefined, 'POST', route, { endpoint: 'ep', config: plcConfig() });
      assert.strictEqual(anon.status, 401, `${route} without a token`);
      const ro = await call(viewer, 'POST', route, { endpoint: 'ep', config: plcConfig() });
      assert.strictEqual(ro.status, 403, `${route} for the read-only user: ${ro.status} ${ro.text}`);
      assert.match(ro.json.error, /genix-opcua-endpoint\.write/);
    }
    const tryRo = await call(viewer, 'POST', '/genix/normalizer/try', { config: {}, topic: 't', payload: '1' });
    assert.strictEqual(tryRo.status, 403, `normalizer try for the read-only user: ${tryRo.status}`);
    assert.match(tryRo.json.error, /genix-normalizer\.write/);
    for (const route of ['/genix/store-forward/sf/metrics', '/genix/store-forward/sf/deadletters']) {
      assert.strictEqual((await call(undefined, 'GET', route)).status, 401, `${route} without a token`);
      const none = await call(await tokenFor(red, 'flowsonly', 'flows-pw'), 'GET', route);
      assert.strictEqual(none.status, 403, `${route} for a user without genix-store-forward.read: ${none.status}`);
      assert.strictEqual((await call(viewer, 'GET', route)).status, 200, `${route} is readable with read permission`);
    }
    // the admin passes the permission check on each route
    assert.strictEqual((await call(admin, 'POST', '/genix/normalizer/try', { config: {}, topic: 'sensors/T/data', payload: '1' })).status, 200);
    assert.strictEqual((await call(admin, 'POST', '/genix/opcua/browse', { endpoint: 'ep', config: plcConfig() })).status, 200, 'stored credentials work on their own URL');
  });

  it('every genix route validates its body: 400/415 with a message, never a stack', async () => {
    const bad: Array<[string, string, unknown, number, RegExp]> = [
      ['POST', '/genix/opcua/browse', { config: { endpointUrl: 42 } }, 400, /config\.endpointUrl must be a string/],
      ['POST', '/genix/opcua/browse', { config: { endpointUrl: `opc.tcp://h/${'x'.repeat(3000)}` } }, 400, /longer than/],
      ['POST', '/genix/opcua/browse', { config: { endpointUrl: 'http://nope' } }, 400, /opc\.tcp/],
      ['POST', '/genix/opcua/browse', { config: { endpointUrl: foreign.url }, nodeId: ['i=85'] }, 400, /nodeId must be a string/],
      ['POST', '/genix/opcua/server-certificate', { config: { endpointUrl: foreign.url, securityMode: 'Weird' } }, 400, /securityMode must be one of/],
      ['POST', '/genix/opcua/server-certificate', { config: { endpointUrl: foreign.url, acceptUnknownCertificates: 'yes' } }, 400, /true or false/],
      ['POST', '/genix/opcua/trust', { endpoint: 'ep', config: plcConfig(), thumbprint: 'zz' }, 400, /40 hexadecimal/],
      ['POST', '/genix/opcua/trust', [1, 2], 400, /JSON object/],
      ['POST', '/genix/normalizer/try', { config: [], topic: 't' }, 400, /config must be an object/],
      ['POST', '/genix/normalizer/try', { config: {}, topic: 7 }, 400, /topic must be a string/],
      ['GET', '/genix/store-forward/sf/deadletters?limit=abc', undefined, 400, /limit must be a number/],
      ['GET', '/genix/store-forward/sf/deadletters?afterId=-3', undefined, 400, /afterId must be >= 0/],
    ];
    for (const [method, route, body, status, message] of bad) {
      const r = await call(admin, method, route, body);
      assert.strictEqual(r.status, status, `${method} ${route} ${JSON.stringify(body)?.slice(0, 80)}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.match(r.json?.error ?? '', message, `${route}: ${r.text.slice(0, 200)}`);
      assert.ok(!/\n\s+at /.test(r.text), `${route}: no stack in ${r.text.slice(0, 300)}`);
    }
    // malformed JSON is refused by the admin API's body parser before any route runs
    for (const route of [...opcuaRoutes, '/genix/normalizer/try']) {
      const r = await call(admin, 'POST', route, '{"config": {');
      assert.strictEqual(r.status, 400, `${route} malformed JSON: ${r.status}`);
      assert.ok(!/\n\s+at /.test(r.text), `${route}: no stack in ${r.text.slice(0, 300)}`);
    }
    // a form post (what a foreign web page can send without a CORS preflight) is refused
    for (const route of [...opcuaRoutes, '/genix/normalizer/try']) {
      const form = await call(admin, 'POST', route, `config[endpointUrl]=${encodeURIComponent(foreign.url)}`, 'application/x-www-form-urlencoded');
      assert.strictEqual(form.status, 415, `${route} form post: ${form.status}`);
    }
  });

  it('stored credentials never reach a foreign URL; typed ones do; the gateway certificate stays home', async () => {
    // the scenario: the deployed endpoint's id, another server's URL, accept-any in the body
    for (let k = 0; k < 2; k++) {
      const r = await call(admin, 'POST', '/genix/opcua/browse', { endpoint: 'ep', config: { ...plcConfig(), endpointUrl: foreign.url, acceptUnknownCertificates: true } });
      assert.strictEqual(r.status, 400, `foreign URL with the stored password: ${r.status} ${r.text}`);
      assert.match(r.json.error, /type the password/);
    }
    const noPassword = await call(admin, 'POST', '/genix/opcua/browse', { endpoint: 'ep', config: { endpointUrl: foreign.url, authType: 'username', username: PLC_USER } });
    assert.strictEqual(noPassword.status, 400);
    const cert = await call(admin, 'POST', '/genix/opcua/browse', { endpoint: 'ep', config: { endpointUrl: foreign.url, authType: 'certificate', userCertificateFile: '/etc/hostname', userPrivateKeyFile: '/etc/hostname' } });
    assert.strictEqual(cert.status, 400, 'no X.509 user identity towards a foreign URL');
    // the certificate routes open no session: they work without any password and offer none
    const shown = await call(admin, 'POST', '/genix/opcua/server-certificate', { endpoint: 'ep', config: { ...plcConfig(), endpointUrl: foreign.url } });
    assert.strictEqual(shown.status, 200, `server certificate of the foreign URL: ${shown.text}`);
    const trusted = await call(admin, 'POST', '/genix/opcua/trust', { endpoint: 'ep', config: { ...plcConfig(), endpointUrl: foreign.url }, thumbprint: shown.json.thumbprint });
    assert.strictEqual(trusted.status, 200, `trust of the foreign URL: ${trusted.text}`);
    assert.deepStrictEqual(foreign.offered, [], 'the foreign server was offered no credentials');

    // control: what the request types itself is offered (so the recorder does see passwords)
    const typed = await call(admin, 'POST', '/genix/opcua/browse', { endpoint: 'ep', config: { endpointUrl: foreign.url, authType: 'username', username: 'someone', password: 'typed-here', acceptUnknownCertificates: true } });
    assert.strictEqual(typed.status, 502, `refused by the foreign server: ${typed.text}`);
    assert.deepStrictEqual((foreign.offered as Recorder['offered']).map((o) => o.password), ['typed-here']);

    // a signed channel to the foreign server presents the editor's certificate, not the gateway's
    const signed = await call(admin, 'POST', '/genix/opcua/browse', { config: { endpointUrl: foreign.url, securityMode: 'Sign', securityPolicy: 'Basic256Sha256', acceptUnknownCertificates: true } });
    assert.strictEqual(signed.status, 502, `the strict foreign server refuses the unknown client certificate: ${signed.text}`);
    const seen = await waitFor(() => { const t = thumbprintsIn(path.join(foreign.pkiDir, 'rejected')); return t.length ? t : null; }, 'a client certificate at the foreign server') as string[];
    const tp = sha1Of;
    const gateway = tp(path.join(userDir, 'genix-opcua', 'pki', 'own', 'certs', 'client_certificate.pem'));
    const editor = tp(path.join(userDir, 'genix-opcua', 'editor-identity', 'own', 'certs', 'client_certificate.pem'));
    assert.ok(seen.includes(editor), 'the foreign server saw the editor certificate');
    assert.ok(!seen.includes(gateway), 'the foreign server never saw the gateway certificate');
  });

  it('no secret in the flow export, flows.json, the log, status texts, errors or metrics', async () => {
    // both cloud endpoints and the bad OPC-UA login have failed at least once by now
    await waitFor(() => /BadUserAccessDenied|authFailed|access denied/i.test(red.output()), 'the bad OPC-UA login in the log', 30000);
    await waitFor(() => /\b401\b/.test(red.output()), 'the HTTP 401 in the log', 30000);
    const exported = await call(admin, 'GET', '/flows');
    assert.strictEqual(exported.status, 200);
    const metrics = await call(admin, 'GET', '/genix/store-forward/sf/metrics');
    assert.strictEqual(metrics.status, 200);
    const places: Record<string, string> = {
      'GET /flows': exported.text,
      'flows.json': fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8'),
      'the log (status texts and caught errors included)': red.output(),
      metrics: metrics.text,
    };
    assert.match(red.output(), /genix-opcua-poller/, 'status texts are in the log');
    for (const [where, text] of Object.entries(places)) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows a secret (${secret.slice(0, 4)}…)`);
    }
  });
});
