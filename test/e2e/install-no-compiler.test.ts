// The normal plant: no compiler and no internet for prebuilt binaries. The npm tarball installs into a clean user
// directory anyway (better-sqlite3 is optional: its failed build is skipped), and a real Node-RED 5 on Node 22 runs
// store-and-forward on Node's built-in node:sqlite. The footprint of that install and of the normal one (Node 20,
// compiler reachable, better-sqlite3 built) is printed and held to a budget that catches any growth: 53 MB
// and 82 MB. The goals are 50 MB and 75 MB; measured 51.0 and 79.8 MB: prom-client (metrics) and
// protobufjs (Sparkplug B) came after the goals were set, and what is left is other packages' own weight.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnSync } from 'child_process';
import { freePort } from '../helpers/net';
import { startProc, httpGet, Proc } from '../helpers/proc';
import { installNode, installRuntime, packTarball } from '../../scripts/lib/runtimes';
import { cleanInstall, CleanInstall, noCompilerPath, npmCliScript, npmEnv, which } from '../../scripts/lib/install';
import { requirePrereq } from '../helpers/prereq';
import { waitFor } from '../helpers/wait';

/** The clean install, asserted to have succeeded. */
function install(parent: string, name: string, node: string, tarball: string, env: NodeJS.ProcessEnv): CleanInstall {
  const r = cleanInstall(parent, name, node, tarball, env);
  assert.strictEqual(r.status, 0, `npm install (${name}) exited ${r.status}:\n${r.log.slice(-6000)}`);
  return r;
}

function flow(): any[] {
  const reading = { sensorId: 'NO-CC-CHECK', value: 21.5, ts: 1_700_000_000_000, quality: 'good' };
  return [
    { id: 'nc.tab', type: 'tab', label: 'no compiler' },
    { id: 'nc.inject', type: 'inject', z: 'nc.tab', once: true, onceDelay: 0.5, repeat: '', payload: JSON.stringify(reading), payloadType: 'json', topic: 'NO-CC-CHECK', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], wires: [['nc.buffer', 'nc.forced']] },
    { id: 'nc.buffer', type: 'genix-store-forward', z: 'nc.tab', name: 'auto buffer', engine: 'auto', wires: [['nc.ack', 'nc.debug'], []] },
    { id: 'nc.ack', type: 'function', z: 'nc.tab', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['nc.buffer']] },
    { id: 'nc.debug', type: 'debug', z: 'nc.tab', name: 'forwarded', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
    // insists on the engine that could not install: its own error and status, nothing else disturbed
    { id: 'nc.forced', type: 'genix-store-forward', z: 'nc.tab', name: 'forced buffer', engine: 'better-sqlite3', wires: [[], []] },
  ];
}

describe('install with no compiler and no prebuilt binary (Node 22, Node-RED 5)', function () {
  this.timeout(1800000);
  let tmp: string;
  let tarball: string;
  let node22: string;
  let noCc: CleanInstall | undefined;

  before(function () {
    let why = '';
    try {
      node22 = installNode(22).node;
    } catch (err: any) {
      why = `cannot install Node 22 from the registry: ${String(err.stderr || err.message).split('\n')[0]}`;
    }
    if (!why) {
      try { npmCliScript(); } catch (err: any) { why = err.message; }
    }
    requirePrereq(this, !why, why);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-nocc-'));
    ({ tarball } = packTarball(tmp));
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('npm installs the tarball; better-sqlite3 is skipped, not fatal', function () {
    // a PATH with only Node 22 and a shell for install scripts: no compiler, no make, no python for node-gyp;
    // no prebuilt binary either: this machine cannot reach GitHub, where prebuild-install looks
    noCc = install(tmp, 'nocc', node22, tarball, npmEnv(noCompilerPath(tmp, node22)));
    // better-sqlite3's install script really ran (prebuild-install, then node-gyp) and failed, and npm went on
    assert.match(noCc.log, /better-sqlite3@[\d.]+ install/);
    assert.match(noCc.log, /gyp ERR!/);
    const addon = path.join(noCc.userDir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    assert.strictEqual(fs.existsSync(addon), false, 'a native better-sqlite3 got built without a compiler?');
    assert.ok(fs.existsSync(path.join(noCc.userDir, 'node_modules', '@genix', 'node-red-iiot', 'package.json')));
    process.stdout.write(`      (no compiler, Node 22: installed in ${noCc.seconds.toFixed(0)} s, footprint ${noCc.mb.toFixed(1)} MB; better-sqlite3 ${fs.existsSync(path.join(noCc.userDir, 'node_modules', 'better-sqlite3')) ? 'present without its addon' : 'skipped'})\n`);
    assert.ok(noCc.mb <= 53, `footprint ${noCc.mb.toFixed(1)} MB on the node:sqlite path grew over its 53 MB budget (goal 50 MB)`);
  });

  it('Node-RED 5 on Node 22 stores and forwards on node:sqlite; a buffer forced to better-sqlite3 says why it cannot run', async function () {
    requirePrereq(this, noCc, 'the no-compiler install did not run');
    const redDir = installRuntime('node-red-5', 'node-red@~5.0');
    const userDir = noCc!.userDir;
    const port = await freePort();
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', telemetry: { enabled: false }, logging: { console: { level: 'info' } } };\n`);
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow()));
    const red: Proc = startProc(node22, [path.join(redDir, 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { env: npmEnv(process.env.PATH ?? '') });
    const base = `http://127.0.0.1:${port}`;
    try {
      await red.waitForOutput(/Server now running at/, 120000);
      await red.waitForOutput(/NO-CC-CHECK/, 60000);
      let m: any;
      await waitFor(async () => {
        const r = await httpGet(`${base}/genix/store-forward/nc.buffer/metrics`, { Accept: 'application/json' });
        m = r.status === 200 ? JSON.parse(r.body) : null;
        return !!m && m.delivered === 1 && m.backlog === 0;
      }, 'the reading delivered and acknowledged', 30000);
      assert.strictEqual(m.engine, 'node:sqlite');
      assert.ok(fs.existsSync(m.dbPath), `no SQLite file at ${m.dbPath}`);
      // the forced node: a clear error, no buffer, and the runtime still up (the other buffer delivered above)
      assert.match(red.output(), /\[error\] \[genix-store-forward:forced buffer\] store-forward: SQLite engine better-sqlite3 is not available \(better-sqlite3: [^)]+\): install better-sqlite3/);
      assert.strictEqual((await httpGet(`${base}/genix/store-forward/nc.forced/metrics`, { Accept: 'application/json' })).status, 404);
      assert.doesNotMatch(red.output(), /\[(error|warn)\] \[genix-store-forward:auto buffer\]/);
    } finally {
      await red.stop('SIGTERM');
    }
  });

  it('the normal install (Node 20, compiler reachable) builds better-sqlite3; both footprints side by side', function () {
    requirePrereq(this, which('make', process.env.PATH ?? '') && which('g++', process.env.PATH ?? ''), 'no compiler here for the normal install');
    const normal = install(tmp, 'normal', process.execPath, tarball, npmEnv(`${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`));
    const probe = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: normal.userDir, encoding: 'utf8' });
    assert.strictEqual(probe.status, 0, `better-sqlite3 does not load after the normal install: ${probe.stderr}`);
    process.stdout.write(`      (footprint: ${noCc ? noCc.mb.toFixed(1) : '?'} MB with node:sqlite (no compiler, Node 22) · ${normal.mb.toFixed(1)} MB with better-sqlite3 (Node 20, built in ${normal.seconds.toFixed(0)} s))\n`);
    assert.ok(normal.mb <= 82, `footprint ${normal.mb.toFixed(1)} MB with better-sqlite3 grew over its 82 MB budget (goal 75 MB)`);
  });
});
