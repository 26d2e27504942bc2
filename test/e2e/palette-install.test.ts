// What an integrator does: upload the npm tarball through the palette manager (the admin API's
// POST /nodes) into a clean user directory of each Node-RED version the package claims, then find
// every node type registered, every shipped example importable with no missing type, and the
// store-and-forward buffer storing and forwarding on that runtime's Node.js (native SQLite built
// for it), and the OPC-UA poller reading a real server with the node-opcua-client npm chose for that
// Node.js (2.182 on Node 20; the current, ES-module 2.186+ on Node 22). Node-RED 5 needs Node.js 22:
// that leg runs on a Node 22 from the registry.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { execFileSync } from 'child_process';
import { freePort } from '../helpers/net';
import { startProc, httpGet, Proc } from '../helpers/proc';
import { installNode, installRuntime, packTarball } from '../../scripts/lib/runtimes';
import { startPlant, fastTiming } from '../helpers/opcua';
import type { PlantOpcuaServer } from '../../scripts/plant/opcua-server';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodeTypes: string[] = Object.keys(pkg['node-red'].nodes);
const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));

interface Leg {
  name: string;
  /** folder of the node-red package */
  red: () => string;
  /** Node.js binary and, for a registry Node, its home (headers for native builds) */
  node: () => { node: string; home?: string };
}

const legs: Leg[] = [
  // the oldest claimed on the oldest declared: engines.node is >=20.19 (pbf, an ES module, loads through require)
  { name: 'Node-RED 3.1 (oldest claimed) on Node.js 20.19.0 (oldest declared)', red: () => installRuntime('node-red-3.1', 'node-red@~3.1'), node: () => installNode('20.19.0') },
  { name: 'Node-RED 4.1 on Node.js 20', red: () => path.join(root, 'node_modules', 'node-red'), node: () => ({ node: process.execPath }) },
  { name: 'Node-RED 5 on Node.js 22', red: () => installRuntime('node-red-5', 'node-red@~5.0'), node: () => installNode(22) },
];

/** A flow that stores a reading, forwards it and acknowledges it, printing what it forwards; and one OPC-UA value. */
function checkFlow(endpointUrl: string): any[] {
  const reading = { sensorId: 'PALETTE-CHECK', value: 21.5, ts: 1_700_000_000_000, quality: 'good' };
  return [
    { id: 'pc.tab', type: 'tab', label: 'palette check' },
    { id: 'pc.inject', type: 'inject', z: 'pc.tab', once: true, onceDelay: 0.5, repeat: '', payload: JSON.stringify(reading), payloadType: 'json', topic: 'PALETTE-CHECK', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], wires: [['pc.buffer']] },
    { id: 'pc.buffer', type: 'genix-store-forward', z: 'pc.tab', name: 'check buffer', wires: [['pc.ack', 'pc.debug'], []] },
    { id: 'pc.ack', type: 'function', z: 'pc.tab', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['pc.buffer']] },
    { id: 'pc.debug', type: 'debug', z: 'pc.tab', name: 'forwarded', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
    { id: 'pc.ep', type: 'genix-opcua-endpoint', endpointUrl, securityMode: 'None', securityPolicy: 'None', authType: 'anonymous', acceptUnknownCertificates: false, ...fastTiming },
    { id: 'pc.poller', type: 'genix-opcua-poller', z: 'pc.tab', endpoint: 'pc.ep', mode: 'subscribe', intervalMs: 200, output: 'each', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'OPCUA-CHECK' }], wires: [['pc.opcua'], []] },
    { id: 'pc.opcua', type: 'debug', z: 'pc.tab', name: 'opcua', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
  ];
}

describe('palette install of the npm tarball on every claimed Node-RED version', function () {
  this.timeout(900000);
  let tmp: string;
  let tarball: string;
  let plant: PlantOpcuaServer;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-palette-'));
    ({ tarball } = packTarball(tmp));
    plant = await startPlant();
  });

  after(async function () {
    if (plant) await plant.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const leg of legs) {
    it(`${leg.name}: POST /nodes installs it, all types register, examples import, the buffer stores and forwards`, async function () {
      const redDir = leg.red();
      const { node, home } = leg.node();
      const redVersion = JSON.parse(fs.readFileSync(path.join(redDir, 'package.json'), 'utf8')).version;
      const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
      const userDir = fs.mkdtempSync(path.join(tmp, 'user-'));
      // npm 11 builds better-sqlite3's native addon only where the user directory allows it
      fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, allowScripts: { 'better-sqlite3': true } }));
      const port = await freePort();
      fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', telemetry: { enabled: false }, logging: { console: { level: 'info' } } };\n`);
      // the palette manager runs `npm` with the runtime's own node first on PATH, so native addons match it
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` };
      if (home) env.npm_config_nodedir = home;
      const red: Proc = startProc(node, [path.join(redDir, 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { env });
      const base = `http://127.0.0.1:${port}`;
      try {
        await red.waitForOutput(/Server now running at/, 120000);
        const form = new FormData();
        form.append('tarball', new Blob([fs.readFileSync(tarball)], { type: 'application/gzip' }), path.basename(tarball));
        const started = Date.now();
        const res = await fetch(`${base}/nodes`, { method: 'POST', body: form, headers: { 'Node-RED-API-Version': 'v2' } });
        const body = await res.text();
        assert.strictEqual(res.status, 200, `install answered ${res.status}: ${body}\n${red.output().slice(-4000)}`);
        const footprint = parseInt(execFileSync('du', ['-sk', path.join(userDir, 'node_modules')], { encoding: 'utf8' }), 10) / 1024;
        process.stdout.write(`      (${leg.name}: node-red ${redVersion}, node ${nodeVersion}; installed in ${((Date.now() - started) / 1000).toFixed(0)} s, footprint ${footprint.toFixed(1)} MB)\n`);

        // the package's main loads where it was installed, on that runtime's Node.js
        const api = execFileSync(node, ['-e', "process.stdout.write(Object.keys(require('@genix/node-red-iiot')).sort().join(','))"], { cwd: userDir, encoding: 'utf8' });
        assert.match(api, /AnomalyDetector/);

        const sets = JSON.parse((await httpGet(`${base}/nodes`, { Accept: 'application/json' })).body) as any[];
        const ours = sets.filter((s) => s.module === '@genix/node-red-iiot');
        for (const s of ours) assert.ok(!s.err, `${s.id} failed to load: ${s.err}`);
        const types = ours.flatMap((s) => s.types);
        for (const t of nodeTypes) assert.ok(types.includes(t), `${t} not registered on ${leg.name}`);

        // the examples as the Import menu lists them, and every example deployed at once with the check flow
        const listed = JSON.parse((await httpGet(`${base}/nodes/@genix/node-red-iiot`, { Accept: 'application/json' })).body);
        assert.ok(listed.nodes.length >= nodeTypes.length);
        const flows: any[] = [...checkFlow(plant.endpointUrl)];
        for (const f of examples) {
          const got = await httpGet(`${base}/library/examples/flows/@genix/node-red-iiot/${encodeURIComponent(f.replace(/\.json$/, ''))}`, { Accept: 'application/json' });
          assert.strictEqual(got.status, 200, `example ${f} not served: ${got.status}`);
          flows.push(...JSON.parse(got.body));
        }
        const deploy = await fetch(`${base}/flows`, { method: 'POST', body: JSON.stringify(flows), headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' } });
        assert.ok(deploy.status === 200 || deploy.status === 204, `deploy answered ${deploy.status}: ${await deploy.text()}`);
        await red.waitForOutput(/PALETTE-CHECK/, 60000);
        // a good value from the real server, through the node-opcua-client installed for this Node.js
        const good = /['"]?quality['"]?:\s*['"]good['"]/.source;
        await red.waitForOutput(new RegExp(`OPCUA-CHECK[\\s\\S]{0,400}${good}|${good}[\\s\\S]{0,400}OPCUA-CHECK`), 60000);
        const client = JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', 'node-opcua-client', 'package.json'), 'utf8')).version;
        process.stdout.write(`      (${leg.name}: node-opcua-client ${client} read the server)\n`);
        assert.doesNotMatch(red.output(), /Waiting for missing types/);
        assert.doesNotMatch(red.output(), /NODE-OPCUA-W\d+/, 'library noise on the Node-RED log');
        assert.doesNotMatch(red.output(), /\[(error|warn)\] \[genix-store-forward:check buffer\]/);
        // @google-cloud/pubsub is an optional peer, not installed by the palette: example 06 says what to install
        await red.waitForOutput(/Pub\/Sub client is not installed: run "npm install @google-cloud\/pubsub"/, 10000);
      } finally {
        await red.stop('SIGTERM');
      }
    });
  }
});
