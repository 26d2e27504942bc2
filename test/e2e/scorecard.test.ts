// The Node-RED Flow Library scorecard (node-red-dev validate, the tool the library runs on every published
// package) on the packed tarball, as the library would see it. Every check must pass: package (P01-P08), nodes
// (N01-N02) and dependencies (D01-D03; D03 fails when a dependency's latest release is outside our range).
// The tool reads the npm registry, which this machine reaches, and catalogue.nodered.org for P08 (a similar
// name already in the catalogue), which a plant network does not: a local stand-in answers that one request
// with an empty catalogue, so P08 is run but cannot find anything, and the output says so.
import assert from 'assert';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { AddressInfo } from 'net';
import { execFileSync, spawn } from 'child_process';
import { installRuntime, packTarball } from '../../scripts/lib/runtimes';
import { requirePrereq } from '../helpers/prereq';

const TOOL = 'node-red-dev@0.1.6';
const CHECKS = ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];

describe('Flow Library scorecard (node-red-dev validate) on the packed tarball', function () {
  this.timeout(600000);
  let tmp: string;
  let pkgDir: string;
  let tool: string;
  let standIn: http.Server;
  const standInAsked: string[] = [];

  before(async function () {
    let why = '';
    try {
      tool = installRuntime('node-red-dev', TOOL);
    } catch (err: any) {
      why = `cannot install ${TOOL} from the registry: ${String(err.stderr || err.message).split('\n')[0]}`;
    }
    requirePrereq(this, !why, why);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-scorecard-'));
    const { tarball } = packTarball(tmp);
    execFileSync('tar', ['xzf', tarball, '-C', tmp]);
    pkgDir = path.join(tmp, 'package');
    // an HTTP proxy for https://catalogue.nodered.org only (no_proxy keeps the registry direct)
    standIn = http.createServer((req, res) => {
      standInAsked.push(String(req.url));
      if (/^https:\/\/catalogue\.nodered\.org\/catalogue\.json$/.test(String(req.url))) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ modules: [] }));
      } else {
        res.statusCode = 502;
        res.end();
      }
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  });

  after(async function () {
    if (standIn) await new Promise((resolve) => standIn.close(resolve));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('passes every check, D03 (dependencies at their latest release) included', async function () {
    const card = path.join(tmp, 'scorecard.json');
    const proxy = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|https?_proxy$|no_proxy$)/i.test(k)) env[k] = v;
    const registryHost = new URL(execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim()).hostname;
    Object.assign(env, { https_proxy: proxy, no_proxy: `${registryHost},registry.npmjs.org` });
    // asynchronously: the stand-in answers from this process
    const child = spawn(process.execPath, [path.join(tool, 'bin', 'run'), 'validate', '-p', pkgDir, '-o', card], { env, timeout: 300000 });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const status = await new Promise((resolve) => child.on('close', resolve));
    assert.ok(fs.existsSync(card), `node-red-dev wrote no scorecard (exit ${status}):\n${out.slice(-4000)}`);
    const score = JSON.parse(fs.readFileSync(card, 'utf8'));
    const missing = CHECKS.filter((c) => !score[c]);
    assert.deepStrictEqual(missing, [], `checks that did not run:\n${out.slice(-4000)}`);
    const failed = CHECKS.filter((c) => score[c].test !== true).map((c) => `${c} ${JSON.stringify(score[c])}`);
    const warnings = out.split('\n').filter((l) => /Warning|Error/.test(l));
    assert.deepStrictEqual(failed, [], `failed checks (${warnings.join(' ')}):\n${out.slice(-4000)}`);
    assert.deepStrictEqual(warnings, [], 'the tool printed warnings');
    assert.deepStrictEqual([...new Set(standInAsked)], ['https://catalogue.nodered.org/catalogue.json'], 'only the catalogue goes to the stand-in');
    process.stdout.write(`      (scorecard ${TOOL}: ${CHECKS.join(' ')} pass; dependencies ${score.D01.total}; P08 ran against an empty stand-in catalogue, catalogue.nodered.org being out of reach)\n`);
  });
});
