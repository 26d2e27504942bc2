// The same store-and-forward tests on both SQLite engines: this suite runs them on Node 20 with better-sqlite3;
// here the lib- and node-level ones run again under a Node 22 from the registry (dist/ must be built), with the
// engine forced to node:sqlite, and once on auto,
// where better-sqlite3 (built for Node 20 in node_modules) cannot load and auto must fall back to node:sqlite.
import assert from 'assert';
import path from 'path';
import { spawnSync } from 'child_process';
import { installNode } from '../../scripts/lib/runtimes';
import { requirePrereq } from '../helpers/prereq';

const root = path.resolve(__dirname, '..', '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

function runMocha(node: string, files: string[], env: NodeJS.ProcessEnv): { code: number | null; out: string } {
  const r = spawnSync(node, [mocha, '--reporter', 'spec', ...files], { cwd: root, env, encoding: 'utf8', timeout: 600000, maxBuffer: 64 * 1048576 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function counts(out: string): { passing: number; failing: number; pending: number } {
  const n = (re: RegExp) => Number((out.match(re) || [])[1] ?? 0);
  return { passing: n(/(\d+) passing/), failing: n(/(\d+) failing/), pending: n(/(\d+) pending/) };
}

describe('store-forward on node:sqlite (Node 22 from the registry)', function () {
  this.timeout(900000);
  let node22 = '';

  before(function () {
    let why = '';
    try {
      node22 = installNode(22).node;
    } catch (err: any) {
      why = `cannot install Node 22 from the registry: ${String(err.stderr || err.message).split('\n')[0]}`;
    }
    requirePrereq(this, node22, why);
  });

  it('the lib-level store-forward tests pass with GENIX_SQLITE_ENGINE=node:sqlite', function () {
    const files = ['test/lib/store-forward*.test.ts'];
    const { code, out } = runMocha(node22, files, { ...process.env, GENIX_SQLITE_ENGINE: 'node:sqlite' });
    const c = counts(out);
    process.stdout.write(`      (node:sqlite on Node 22: ${c.passing} passing, ${c.failing} failing, ${c.pending} pending)\n`);
    assert.strictEqual(code, 0, `mocha under Node 22 exited ${code}:\n${out.slice(-6000)}`);
    assert.strictEqual(c.failing, 0);
    assert.strictEqual(c.pending, 0, 'nothing may be skipped on this engine');
    // the engine test names the engine in force: proof that the run was on node:sqlite
    assert.match(out, /the queue runs on the engine in force \(GENIX_SQLITE_ENGINE=node:sqlite\)/);
    assert.ok(c.passing >= 40, `only ${c.passing} tests ran`);
  });

  it('the node-level store-forward tests (Node-RED runtime, real full disk) pass with GENIX_SQLITE_ENGINE=node:sqlite', function () {
    const { code, out } = runMocha(node22, ['test/nodes/genix-store-forward.test.ts'], { ...process.env, GENIX_SQLITE_ENGINE: 'node:sqlite' });
    const c = counts(out);
    process.stdout.write(`      (node:sqlite on Node 22, node level: ${c.passing} passing, ${c.failing} failing, ${c.pending} pending)\n`);
    assert.strictEqual(code, 0, `mocha under Node 22 exited ${code}:\n${out.slice(-6000)}`);
    assert.strictEqual(c.failing, 0);
    assert.strictEqual(c.pending, 0, 'nothing may be skipped on this engine');
    // that test waits for a status ending in "· node:sqlite" and metrics naming it
    assert.match(out, /✔ the status and the metrics name the engine in use/);
    assert.ok(c.passing >= 20, `only ${c.passing} tests ran`);
  });

  it('auto falls back to node:sqlite where better-sqlite3 cannot load (native module built for another Node.js)', function () {
    // the premise: node_modules' better-sqlite3 is built for this Node 20 and refuses Node 22
    const probe = spawnSync(node22, ['-e', "new (require('better-sqlite3'))(':memory:')"], { cwd: root, encoding: 'utf8' });
    assert.notStrictEqual(probe.status, 0, 'better-sqlite3 loads on Node 22 here: rebuild it for Node 20 for this test to mean anything');
    assert.match(probe.stderr, /NODE_MODULE_VERSION/);
    const env = { ...process.env };
    delete env.GENIX_SQLITE_ENGINE;
    const { code, out } = runMocha(node22, ['test/lib/store-forward-engine.test.ts'], env);
    assert.strictEqual(code, 0, `mocha under Node 22 exited ${code}:\n${out.slice(-6000)}`);
    assert.match(out, /✔ the queue runs on the engine in force \(auto\)/);
    assert.strictEqual(counts(out).failing, 0);
  });
});
