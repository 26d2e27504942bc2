// The normal plant: no compiler and no internet. The npm tarball installs into a clean user directory on every
// path, and store-and-forward runs wherever an engine is there, or says what to install where none is:
// - Node 22, no compiler: better-sqlite3 13 ships prebuilt Node-API binaries in its npm package: nothing compiles,
//   and Node-RED 5 stores and forwards on it (a buffer set to node:sqlite works beside it);
// - Node 22, `--omit=optional` (the built-in engine only, the smallest install): node:sqlite, and a buffer set to
//   better-sqlite3 says why it cannot run;
// - Node 20, no compiler: better-sqlite3 12 (the line Node 20 gets) must compile, fails, and is skipped: the package
//   loads and the engine loader names what to install;
// - Node 20, compiler reachable: better-sqlite3 12 is built from source.
// Each prints its footprint and is held to its goal (75 MB with better-sqlite3, 50 MB on node:sqlite), or, for the
// compiled install, to a budget that catches growth (78 MB: the compile leaves its object files behind).
// `npm run bench -- footprint` measures the same installs for the README.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnSync } from 'child_process';
import { freePort } from '../helpers/net';
import { startProc, httpGet, Proc } from '../helpers/proc';
import { installNode, installRuntime, packTarball } from '../../scripts/lib/runtimes';
import { cleanInstall, CleanInstall, installedVersion, noCompilerPath, npmCliScript, npmEnv, which } from '../../scripts/lib/install';
import { requirePrereq } from '../helpers/prereq';
import { waitFor } from '../helpers/wait';

/** The clean install, asserted to have succeeded. */
function install(parent: string, name: string, node: string, tarball: string, env: NodeJS.ProcessEnv, npmArgs: string[] = []): CleanInstall {
  const r = cleanInstall(parent, name, node, tarball, env, npmArgs);
  assert.strictEqual(r.status, 0, `npm install (${name}) exited ${r.status}:\n${r.log.slice(-6000)}`);
  return r;
}

function flow(forced: 'better-sqlite3' | 'node:sqlite'): any[] {
  const reading = { sensorId: 'NO-CC-CHECK', value: 21.5, ts: 1_700_000_000_000, quality: 'good' };
  return [
    { id: 'nc.tab', type: 'tab', label: 'no compiler' },
    { id: 'nc.inject', type: 'inject', z: 'nc.tab', once: true, onceDelay: 0.5, repeat: '', payload: JSON.stringify(reading), payloadType: 'json', topic: 'NO-CC-CHECK', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], wires: [['nc.buffer', 'nc.forced']] },
    { id: 'nc.buffer', type: 'genix-store-forward', z: 'nc.tab', name: 'auto buffer', engine: 'auto', wires: [['nc.ack', 'nc.debug'], []] },
    { id: 'nc.ack', type: 'function', z: 'nc.tab', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['nc.buffer']] },
    { id: 'nc.debug', type: 'debug', z: 'nc.tab', name: 'forwarded', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
    // insists on one engine: it runs beside the auto one, or gives its own error and status, nothing else disturbed
    { id: 'nc.forced', type: 'genix-store-forward', z: 'nc.tab', name: 'forced buffer', engine: forced, wires: [['nc.forcedAck'], []] },
    { id: 'nc.forcedAck', type: 'function', z: 'nc.tab', func: 'msg.delivery.ok = true;\nreturn msg;', outputs: 1, wires: [['nc.forced']] },
  ];
}

/** Metrics of a buffer once its one reading is delivered and acknowledged. */
async function delivered(base: string, id: string): Promise<any> {
  let m: any;
  await waitFor(async () => {
    const r = await httpGet(`${base}/genix/store-forward/${id}/metrics`, { Accept: 'application/json' });
    m = r.status === 200 ? JSON.parse(r.body) : null;
    return !!m && m.delivered === 1 && m.backlog === 0;
  }, `${id}: the reading delivered and acknowledged`, 30000);
  assert.ok(fs.existsSync(m.dbPath), `no SQLite file at ${m.dbPath}`);
  return m;
}

const addonIn = (userDir: string, ...p: string[]) => fs.existsSync(path.join(userDir, 'node_modules', 'better-sqlite3', ...p));

describe('install with no compiler and no internet (Node 22 / Node-RED 5, Node 20)', function () {
  this.timeout(1800000);
  let tmp: string;
  let tarball: string;
  let node22: string;
  const installs: Record<string, CleanInstall> = {};

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

  /** Node-RED 5 on Node 22 in that user directory with the check flow; `check` runs while it is up. */
  async function withRed5(userDir: string, forced: 'better-sqlite3' | 'node:sqlite', check: (base: string, red: Proc) => Promise<void>): Promise<void> {
    const redDir = installRuntime('node-red-5', 'node-red@~5.0');
    const port = await freePort();
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', telemetry: { enabled: false }, logging: { console: { level: 'info' } } };\n`);
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow(forced)));
    const red: Proc = startProc(node22, [path.join(redDir, 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { env: npmEnv(process.env.PATH ?? '') });
    try {
      await red.waitForOutput(/Server now running at/, 120000);
      await red.waitForOutput(/NO-CC-CHECK/, 60000);
      await check(`http://127.0.0.1:${port}`, red);
    } finally {
      await red.stop('SIGTERM');
    }
  }

  it('Node 22, no compiler: better-sqlite3 comes prebuilt, nothing compiles; Node-RED 5 stores and forwards on it and on node:sqlite', async function () {
    // a PATH with only Node 22 and a shell for install scripts: no compiler, no make, no python for node-gyp
    const r = installs.node22 = install(tmp, 'node22', node22, tarball, npmEnv(noCompilerPath(path.join(tmp, 'n22'), node22)));
    assert.doesNotMatch(r.log, /gyp|prebuild-install/, 'something tried to compile or download');
    assert.ok(addonIn(r.userDir, 'prebuilds', `${process.platform}-${process.arch}.node`), 'better-sqlite3 without its prebuilt binary');
    process.stdout.write(`      (Node 22, no compiler: better-sqlite3 ${installedVersion(r.userDir, 'better-sqlite3')} prebuilt, node-opcua-client ${installedVersion(r.userDir, 'node-opcua-client')}; installed in ${r.seconds.toFixed(0)} s, footprint ${r.mb.toFixed(1)} MB)\n`);
    assert.ok(r.mb <= 75, `footprint ${r.mb.toFixed(1)} MB with better-sqlite3 over its 75 MB goal`);
    await withRed5(r.userDir, 'node:sqlite', async (base, red) => {
      assert.strictEqual((await delivered(base, 'nc.buffer')).engine, 'better-sqlite3');
      assert.strictEqual((await delivered(base, 'nc.forced')).engine, 'node:sqlite');
      assert.doesNotMatch(red.output(), /\[(error|warn)\] \[genix-store-forward/);
    });
  });

  it('Node 22, --omit=optional: the smallest install; Node-RED 5 stores and forwards on node:sqlite, a buffer forced to better-sqlite3 says why it cannot run', async function () {
    const r = installs.builtIn = install(tmp, 'builtin', node22, tarball, npmEnv(noCompilerPath(path.join(tmp, 'builtin'), node22)), ['--omit=optional']);
    assert.strictEqual(addonIn(r.userDir), false, 'better-sqlite3 installed despite --omit=optional');
    process.stdout.write(`      (Node 22, --omit=optional: node:sqlite only; installed in ${r.seconds.toFixed(0)} s, footprint ${r.mb.toFixed(1)} MB)\n`);
    assert.ok(r.mb <= 50, `footprint ${r.mb.toFixed(1)} MB on the node:sqlite path over its 50 MB goal`);
    await withRed5(r.userDir, 'better-sqlite3', async (base, red) => {
      assert.strictEqual((await delivered(base, 'nc.buffer')).engine, 'node:sqlite');
      // the forced node: a clear error, no buffer, and the runtime still up (the other buffer delivered above)
      assert.match(red.output(), /\[error\] \[genix-store-forward:forced buffer\] store-forward: SQLite engine better-sqlite3 is not available \(better-sqlite3: [^)]+\): install better-sqlite3/);
      assert.strictEqual((await httpGet(`${base}/genix/store-forward/nc.forced/metrics`, { Accept: 'application/json' })).status, 404);
      assert.doesNotMatch(red.output(), /\[(error|warn)\] \[genix-store-forward:auto buffer\]/);
    });
  });

  it('Node 20, no compiler: better-sqlite3 12 fails to build and is skipped, not fatal; the engine loader says what to install', function () {
    const r = installs.node20 = install(tmp, 'node20', process.execPath, tarball, npmEnv(noCompilerPath(path.join(tmp, 'n20'), process.execPath)));
    // better-sqlite3's install script really ran (prebuild-install, then node-gyp) and failed, and npm went on
    assert.match(r.log, /better-sqlite3@12\.[\d.]+ install/);
    assert.match(r.log, /gyp ERR!/);
    assert.strictEqual(addonIn(r.userDir, 'build', 'Release', 'better_sqlite3.node'), false, 'a native better-sqlite3 got built without a compiler?');
    const engine = path.join(r.userDir, 'node_modules', '@genix', 'node-red-iiot', 'dist', 'nodes', 'lib', 'store-forward', 'engine.js');
    const probe = spawnSync(process.execPath, ['-e', `try { require(${JSON.stringify(engine)}).loadEngine('auto'); } catch (e) { process.stdout.write(e.message); }`], { cwd: r.userDir, encoding: 'utf8' });
    assert.match(probe.stdout, /no SQLite engine: install better-sqlite3 \(needs a compiler or a prebuilt binary\) or run Node\.js >= 22\.13/);
    process.stdout.write(`      (Node 20, no compiler: better-sqlite3 skipped; installed in ${r.seconds.toFixed(0)} s, footprint ${r.mb.toFixed(1)} MB)\n`);
  });

  it('Node 20, compiler reachable: better-sqlite3 12 is built from source', function () {
    requirePrereq(this, which('make', process.env.PATH ?? '') && which('g++', process.env.PATH ?? ''), 'no compiler here for the normal install');
    const normal = install(tmp, 'normal', process.execPath, tarball, npmEnv(`${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`));
    const probe = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: normal.userDir, encoding: 'utf8' });
    assert.strictEqual(probe.status, 0, `better-sqlite3 does not load after the normal install: ${probe.stderr}`);
    const mb = (k: string) => (installs[k] ? `${installs[k].mb.toFixed(1)} MB` : '?');
    process.stdout.write(`      (footprints: Node 22 ${mb('node22')} with better-sqlite3 prebuilt · ${mb('builtIn')} with node:sqlite only · Node 20 ${normal.mb.toFixed(1)} MB with better-sqlite3 built in ${normal.seconds.toFixed(0)} s)\n`);
    assert.ok(normal.mb <= 78, `footprint ${normal.mb.toFixed(1)} MB with better-sqlite3 compiled grew over its 78 MB budget (goal 75 MB)`);
  });
});
