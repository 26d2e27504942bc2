// The npm tarball is what palette users get: it must hold every node and install into a clean
// Node-RED user directory with every node type registered.
import assert from 'assert';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { packTarball } from '../../scripts/lib/runtimes';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('npm pack tarball', function () {
  this.timeout(120000);
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

  it('ships a package.json true for the installed package: a main that exists, no install-time script, engines as its dependencies need', function () {
    const shipped = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.strictEqual(shipped.scripts?.[s], undefined, `${s} script shipped`);
    assert.ok(files.includes(shipped.main), `main ${shipped.main} is not in the tarball`);
    assert.strictEqual(shipped.engines.node, '>=20.19');
  });
});
