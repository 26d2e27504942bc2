// The default MQTT client id in a real Node-RED process with admin authentication: the admin route that shows
// it needs genix-cloud-endpoint.read, validates its input, and names the id the endpoint really uses; the id
// survives a restart of the same installation and differs on another installation running the same flow.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { startAedes, TestBroker } from '../helpers/brokers';
import { waitFor } from '../helpers/wait';

const bcrypt = require('bcryptjs');

const PASSWORD = 'editor-pw-1';

function settings() {
  const hash = bcrypt.hashSync(PASSWORD, 8);
  return {
    adminAuth: {
      type: 'credentials',
      users: [
        { username: 'viewer', password: hash, permissions: 'read' },
        { username: 'flowsonly', password: hash, permissions: 'flows.read' },
      ],
    },
  };
}

async function token(red: RedProcess, username: string, scope: string): Promise<string> {
  const body = new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORD });
  const r = await fetch(`${red.url}/auth/token`, { method: 'POST', body });
  assert.strictEqual(r.status, 200, `login as ${username}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

const route = (red: RedProcess, node: string | null) => `${red.url}/genix/cloud/default-client-id${node === null ? '' : `?node=${encodeURIComponent(node)}`}`;

/** The client id the endpoint logged at deploy. */
const loggedId = (red: RedProcess) => /MQTT client id (\S+) \(this installation's default\)/.exec(red.output())?.[1];

describe('cloud endpoint default client id (Node-RED process with adminAuth)', function () {
  this.timeout(120000);
  let broker: TestBroker;
  const reds: RedProcess[] = [];
  const dirs: string[] = [];
  before(async function () { broker = await startAedes(); });
  after(async function () {
    for (const r of reds) await r.stop();
    await broker.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const flows = () => [
    { id: 'tab', type: 'tab', label: 'cloud' },
    { id: 'ep', type: 'genix-cloud-endpoint', protocol: 'mqtt', url: broker.url, stateTopic: '' },
    { id: 'pub', type: 'genix-cloud-publisher', z: 'tab', endpoint: 'ep', topic: 't/{sensorId}', qos: '1', wires: [] },
  ];
  async function gateway(userDir?: string): Promise<RedProcess> {
    const dir = userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'genix-gw-'));
    if (!userDir) dirs.push(dir);
    const red = await startRedProcess({ userDir: dir, flows: flows(), settings: settings() });
    reds.push(red);
    await waitFor(() => loggedId(red), 'client id logged at deploy', 20000);
    return red;
  }

  it('needs .read, answers 400 with a message for bad input, and shows the id in use; stable per installation, different between installations', async function () {
    const red = await gateway();
    const id = loggedId(red) as string;
    assert.match(id, /^genix-[a-z0-9-]+-[0-9a-f]{8}$/);

    assert.strictEqual((await fetch(route(red, 'ep'))).status, 401, 'no login');
    const narrow = await token(red, 'flowsonly', 'flows.read');
    // Node-RED's needsPermission answers a missing permission with 401 (core behaviour); either way, no id
    const refused = await fetch(route(red, 'ep'), { headers: { authorization: `Bearer ${narrow}` } });
    assert.ok(refused.status === 401 || refused.status === 403, `without genix-cloud-endpoint.read: ${refused.status}`);
    assert.ok(!(await refused.text()).includes(id));

    const viewer = { authorization: `Bearer ${await token(red, 'viewer', 'read')}` };
    const ok = await fetch(route(red, 'ep'), { headers: viewer });
    assert.strictEqual(ok.status, 200);
    assert.strictEqual(((await ok.json()) as { clientId: string }).clientId, id, 'the dialog shows what the endpoint uses');
    for (const bad of [null, '', '../../../etc/passwd', 'a b', 'x'.repeat(65)]) {
      const r = await fetch(route(red, bad), { headers: viewer });
      assert.strictEqual(r.status, 400, String(bad));
      const text = await r.text();
      assert.match(JSON.parse(text).error, /node id/);
      assert.ok(!/\bat .*\.(js|ts):\d+/.test(text), text);
    }

    // the same installation after a restart: the same id
    await red.stop();
    reds.splice(reds.indexOf(red), 1);
    const again = await gateway(red.userDir);
    assert.strictEqual(loggedId(again), id);
    // another gateway importing the same flow: its own id
    const other = await gateway();
    assert.notStrictEqual(loggedId(other), id);
  });
});
