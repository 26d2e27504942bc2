// The npm tarball is what palette users get: it must hold every node and install into a clean
// Node-RED user directory with every node type registered.
import assert from 'assert';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from '../helpers/net';
import { startProc, httpGet } from '../helpers/proc';
import { packTarball } from '../helpers/runtimes';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodeTypes: string[] = Object.keys(pkg['node-red'].nodes);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm pack tarball', function () {
  this.timeout(400000);
  let tmp: string;
  let tarball: string;
  let files: string[];

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-pack-'));
    ({ tarball, files } = packTarball(tmp));
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds each node entry, editor file, help, labels and icons, and nothing for developers only', function () {
    for (const [type, entry] of Object.entries<string>(pkg['node-red'].nodes)) {
      assert.ok(files.includes(entry), `${entry} missing`);
      assert.ok(files.includes(entry.replace(/\.js$/, '.html')), `${type}.html missing`);
      assert.ok(files.includes(`dist/nodes/locales/en-US/${type}.json`), `labels of ${type} missing`);
      assert.ok(files.includes(`dist/nodes/locales/en-US/${type}.html`), `help of ${type} missing`);
    }
    assert.ok(files.some((f) => /^dist\/nodes\/icons\/.+\.svg$/.test(f)), 'icons missing');
    assert.ok(files.some((f) => /^examples\/.+\.json$/.test(f)), 'example flows missing');
    assert.ok(files.includes('README.md') && files.includes('LICENSE') && files.includes('package.json'));
    const devOnly = files.filter((f) => /^(test|bench|scripts|nodes)\//.test(f) || f.startsWith('dist/bench/') || f.startsWith('dist/scripts/') || f.endsWith('.ts'));
    assert.deepStrictEqual(devOnly, []);
  });

  it('installs into a clean Node-RED user directory with every node type registered', async function () {
    const userDir = path.join(tmp, 'userdir');
    fs.mkdirSync(userDir);
    // What a user directory holds; allowScripts lets npm 11 build better-sqlite3's native addon.
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, allowScripts: { 'better-sqlite3': true } }));
    // The same npm install the palette manager runs.
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--omit=dev', '--prefer-offline', '--save', tarball], {
      cwd: userDir,
      stdio: 'pipe',
      env: { ...process.env, npm_config_yes: 'true' },
    });
    const installed = path.join(userDir, 'node_modules', '@genix', 'node-red-iiot');
    assert.ok(fs.existsSync(path.join(installed, 'package.json')));
    // package.json tells the truth about the installed package: its main loads, no install-time script
    // points at a file the tarball does not hold, and engines names the Node.js its dependencies need
    const shipped = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.strictEqual(shipped.scripts?.[s], undefined, `${s} script shipped`);
    const api = execFileSync(process.execPath, ['-e', "const m = require('@genix/node-red-iiot'); process.stdout.write(Object.keys(m).sort().join(','))"], { cwd: userDir, encoding: 'utf8' });
    assert.match(api, /AnomalyDetector/);
    assert.match(api, /normalizer/);
    assert.strictEqual(shipped.engines.node, '>=20');
    const footprint = execFileSync('du', ['-sk', path.join(userDir, 'node_modules')], { encoding: 'utf8' });
    process.stdout.write(`      (installed footprint: ${(parseInt(footprint, 10) / 1024).toFixed(1)} MB in node_modules)\n`);
    assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', 'node-opcua-server')), 'the OPC-UA server is a dev dependency only');
    assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', 'node-red')), 'node-red is not a runtime dependency');

    const port = await freePort();
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', telemetry: { enabled: false }, logging: { console: { level: 'info' } } };\n`);
    const red = startProc(process.execPath, [path.join(root, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')]);
    try {
      await red.waitForOutput(/Server now running at/, 60000);
      const sets = JSON.parse((await httpGet(`http://127.0.0.1:${port}/nodes`, { Accept: 'application/json' })).body) as any[];
      const ours = sets.filter((s) => s.module === '@genix/node-red-iiot');
      assert.ok(ours.length > 0, `package not loaded:\n${red.output().slice(-3000)}`);
      for (const s of ours) assert.ok(!s.err, `${s.id} failed to load: ${s.err}`);
      const types = ours.flatMap((s) => s.types);
      for (const t of nodeTypes) assert.ok(types.includes(t), `${t} not registered`);
      assert.ok(ours.every((s) => s.enabled && s.version === pkg.version));
    } finally {
      await red.stop('SIGTERM');
    }
  });
});
