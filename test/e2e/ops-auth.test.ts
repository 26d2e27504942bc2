// With adminAuth on: /genix/metrics needs genix-metrics.read (401 without a login, 403 for a user
// who lacks it), the health probes answer without credentials. Then the same through the shipped
// deploy/settings.js, as the container starts it (secrets from the environment).
import assert from 'assert';
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startRedProcess, linkPackage, RedProcess } from '../helpers/red-process';
import { freePort, waitForPort } from '../helpers/net';
import { waitFor } from '../helpers/wait';
import { opsFlow, scrape } from '../helpers/ops';

// bcryptjs is Node-RED's own password hashing (adminAuth compares with it)
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('@node-red/editor-api/package.json'))] }));

async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }),
  });
  assert.strictEqual(res.status, 200, `login as ${username}`);
  return ((await res.json()) as any).access_token;
}

describe('operations endpoints with adminAuth on (e2e)', function () {
  this.timeout(60000);
  let red: RedProcess;

  before(async () => {
    const hash = bcrypt.hashSync('s3cret-pass', 8);
    red = await startRedProcess({
      flows: opsFlow(),
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'ops', password: hash, permissions: ['genix-metrics.read'] },
            { username: 'viewer', password: hash, permissions: ['flows.read'] },
            // a token's user must exist; '!' is no bcrypt hash, so nobody signs in as it with a password
            { username: 'prometheus', password: '!', permissions: ['genix-metrics.read'] },
          ],
          tokens: [{ token: 'prometheus-scrape-token', user: 'prometheus', scope: ['genix-metrics.read'] }],
        },
      },
    });
  });
  after(async () => {
    await red?.stop();
  });

  it('answers 401 without credentials and 403 to a user without genix-metrics.read', async () => {
    assert.strictEqual((await scrape(red.url)).status, 401);
    assert.strictEqual((await scrape(red.url, { authorization: 'Bearer not-a-token' })).status, 401);
    const viewer = await login(red.url, 'viewer', 's3cret-pass');
    // the same token reads the flows: it is a valid login, only the permission is missing
    assert.strictEqual((await fetch(`${red.url}/flows`, { headers: { authorization: `Bearer ${viewer}` } })).status, 200);
    const denied = await scrape(red.url, { authorization: `Bearer ${viewer}` });
    assert.strictEqual(denied.status, 403);
    assert.doesNotMatch(denied.text, /genix_/);
  });

  it('serves the metrics to a user and to a static API token holding genix-metrics.read', async () => {
    const ops = await login(red.url, 'ops', 's3cret-pass');
    const byUser = await scrape(red.url, { authorization: `Bearer ${ops}` });
    assert.strictEqual(byUser.status, 200);
    assert.ok(byUser.metrics!.genix_buffer_open, 'genix metrics in the answer');
    const byToken = await scrape(red.url, { authorization: 'Bearer prometheus-scrape-token' });
    assert.strictEqual(byToken.status, 200);
    // that token is good for metrics only
    assert.strictEqual((await fetch(`${red.url}/flows`, { headers: { authorization: 'Bearer prometheus-scrape-token' } })).status, 401);
  });

  it('answers the health probes without credentials', async () => {
    assert.strictEqual((await fetch(`${red.url}/genix/health/ready`)).status, 200);
    await waitFor(async () => (await fetch(`${red.url}/genix/health/live`)).status === 200, 'live');
    assert.strictEqual((await fetch(`${red.url}/flows`)).status, 401, 'while the admin API itself stays closed');
  });
});

describe('deploy/settings.js as the container runs it (e2e)', function () {
  this.timeout(60000);
  const settingsFile = path.resolve(__dirname, '../../deploy/settings.js');
  const redJs = require.resolve('node-red/red.js');
  let child: ChildProcess | undefined;
  let out = '';
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-deploy-'));

  const start = (env: Record<string, string>, port: number) => {
    out = '';
    const c = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', userDir], {
      cwd: userDir,
      env: { ...process.env, GENIX_LISTEN_HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', (d) => { out += d; });
    c.stderr!.on('data', (d) => { out += d; });
    return c;
  };
  const exited = (c: ChildProcess) => new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));

  before(() => {
    linkPackage(userDir);
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opsFlow()));
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    child = undefined;
  });
  after(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('refuses to start without NODE_RED_CREDENTIAL_SECRET, saying what to set', async () => {
    const env = { ...process.env };
    delete env.NODE_RED_CREDENTIAL_SECRET;
    child = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', userDir], { cwd: userDir, env: { ...env, GENIX_LISTEN_HOST: '127.0.0.1', PORT: String(await freePort()) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.on('data', (d) => { text += d; });
    child.stderr!.on('data', (d) => { text += d; });
    const code = await exited(child);
    assert.notStrictEqual(code, 0);
    assert.match(text, /NODE_RED_CREDENTIAL_SECRET is not set/);
  });

  it('starts with secrets from the environment: probes open, metrics for the Prometheus token only', async () => {
    const port = await freePort();
    child = start({
      NODE_RED_CREDENTIAL_SECRET: 'a-test-credential-secret',
      NODE_RED_ADMIN_PASSWORD_HASH: bcrypt.hashSync('admin-pass', 8),
      GENIX_METRICS_TOKEN: 'scrape-me',
    }, port);
    await waitForPort(port, '127.0.0.1', 30000);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/genix/health/ready`)).status === 200, `ready (output: ${out.slice(-500)})`, 30000);
    assert.strictEqual((await fetch(`${url}/genix/health/live`)).status, 200);
    assert.strictEqual((await scrape(url)).status, 401);
    const ok = await scrape(url, { authorization: 'Bearer scrape-me' });
    assert.strictEqual(ok.status, 200);
    assert.ok(ok.metrics!.genix_flows_started);
    assert.strictEqual((await fetch(`${url}/flows`, { headers: { authorization: 'Bearer scrape-me' } })).status, 401);
    const admin = await login(url, 'admin', 'admin-pass');
    assert.strictEqual((await fetch(`${url}/flows`, { headers: { authorization: `Bearer ${admin}` } })).status, 200);
    assert.doesNotMatch(out, /scrape-me|a-test-credential-secret/, 'no secret in the log');
  });
});

describe('health under httpNodeRoot when the admin API is off (e2e)', function () {
  this.timeout(60000);
  let red: RedProcess;
  before(async () => {
    red = await startRedProcess({ flows: opsFlow(), settings: { httpAdminRoot: false, httpNodeRoot: '/api', genixOps: { health: { httpNode: true } } } });
  });
  after(async () => {
    await red?.stop();
  });

  it('serves /genix/health/* under httpNodeRoot with genixOps.health.httpNode', async () => {
    const ready = await fetch(`${red.url}/api/genix/health/ready`);
    assert.strictEqual(ready.status, 200);
    assert.strictEqual(((await ready.json()) as any).ready, true);
    await waitFor(async () => (await fetch(`${red.url}/api/genix/health/live`)).status === 200, 'live under httpNodeRoot');
    assert.strictEqual((await fetch(`${red.url}/genix/metrics`)).status, 404, 'no admin API, no metrics route');
  });
});
