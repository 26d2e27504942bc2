// `npm start` on a fresh user directory: the editor answers, the genix palette is loaded, Ctrl-C stops.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from '../helpers/net';
import { startProc, httpGet, Proc } from '../helpers/proc';
import { requirePrereq } from '../helpers/prereq';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodeTypes: string[] = Object.keys(pkg['node-red'].nodes);

/** Debian's Chromium, headless, with no background traffic of its own (a missing one: see requirePrereq). */
async function launchChromium(ctx: Mocha.Context): Promise<any> {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  requirePrereq(ctx, chromium, 'Chromium is not installed (apt-get install chromium; .ci/run installs it)');
  const { chromium: pw } = require('playwright-core');
  return pw.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

describe('npm start demo (real process)', function () {
  this.timeout(90000);
  let proc: Proc;
  let port: number;
  let userDir: string;

  before(async function () {
    port = await freePort();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-demo-test-'));
    const env = {
      ...process.env,
      GENIX_PORT: String(port),
      GENIX_USER_DIR: userDir,
      GENIX_SENSOR_PORT: String(await freePort()),
      GENIX_CLOUD_PORT: String(await freePort()),
      GENIX_OPCUA_PORT: String(await freePort()),
      GENIX_SENSORS: '8',
      GENIX_LOG_LEVEL: 'warn',
    };
    proc = startProc(process.execPath, [path.join(root, 'dist', 'scripts', 'demo.js')], { env, cwd: root });
    await proc.waitForOutput(/genix demo is running/, 60000);
  });

  after(async function () {
    if (proc) await proc.stop('SIGKILL');
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('prints where the editor, the plant and the cloud are', function () {
    const out = proc.output();
    assert.match(out, new RegExp(`Node-RED editor\\s+http://127\\.0\\.0\\.1:${port}/`));
    assert.match(out, /sensors \(MQTT\)\s+mqtt:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /cloud \(MQTT\)\s+mqtt:\/\/127\.0\.0\.1:\d+/);
  });

  it('serves the editor and lists every genix node type, without load errors, in the genix category', async function () {
    const editor = await httpGet(`http://127.0.0.1:${port}/`);
    assert.strictEqual(editor.status, 200);
    const sets = JSON.parse((await httpGet(`http://127.0.0.1:${port}/nodes`, { Accept: 'application/json' })).body) as any[];
    const ours = sets.filter((s) => s.module === '@genix/node-red-iiot');
    const registered = ours.flatMap((s) => s.types);
    for (const t of nodeTypes) assert.ok(registered.includes(t), `${t} is not registered; sets: ${JSON.stringify(ours)}`);
    for (const s of ours) assert.ok(!s.err, `${s.id} failed to load: ${s.err}`);
    const html = (await httpGet(`http://127.0.0.1:${port}/nodes`, { Accept: 'text/html' })).body;
    for (const t of nodeTypes) {
      assert.match(html, new RegExp(`registerType\\(\\s*['"]${t}['"]`), `editor definition of ${t}`);
    }
    assert.match(html, /category:\s*['"]genix['"]/);
  });

  it('deploys the demo flow and starts it', async function () {
    const flows = JSON.parse((await httpGet(`http://127.0.0.1:${port}/flows`, { Accept: 'application/json' })).body);
    const list = Array.isArray(flows) ? flows : flows.flows;
    assert.ok(list.some((n: any) => n.type === 'tab' && n.label === 'Plant gateway demo'));
    for (const t of nodeTypes) assert.ok(list.some((n: any) => n.type === t), `demo flow has no ${t}`);
  });

  it('shows a dashboard page whose charts, alarm table and backlog get live data (headless Chromium)', async function () {
    const browser = await launchChromium(this);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const frames: Record<string, number> = {};
      page.on('websocket', (ws: any) => {
        ws.on('framereceived', (f: any) => {
          const m = /^\d*\["msg-input:([\w-]+)"/.exec(String(f.payload));
          if (m) frames[m[1]] = (frames[m[1]] ?? 0) + 1;
        });
      });
      const res = await page.goto(`http://127.0.0.1:${port}/dashboard`, { waitUntil: 'domcontentloaded' });
      assert.strictEqual(res.status(), 200);
      await page.waitForSelector('text=Live readings and limits', { timeout: 30000 });
      await page.waitForSelector('canvas', { timeout: 30000 });
      const deadline = Date.now() + 30000;
      while (!((frames['demo-ui-chart'] ?? 0) >= 3 && (frames['demo-ui-backlog'] ?? 0) >= 1)) {
        if (Date.now() > deadline) throw new Error(`dashboard widgets got no data: ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const shot = path.join(userDir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(fs.statSync(shot).size > 10000);
    } finally {
      await browser.close();
    }
  });

  it('opens the demo in the editor with no invalid node and no request leaving the machine (headless Chromium)', async function () {
    const browser = await launchChromium(this);
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const offHost: string[] = [];
      const failed: string[] = [];
      page.on('request', (r: any) => { if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(r.url()) && !/^(data|blob):/.test(r.url())) offHost.push(r.url()); });
      page.on('requestfailed', (r: any) => failed.push(`${r.failure()?.errorText} ${r.url()}`));
      await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => { const R = (window as any).RED; let n = 0; R?.nodes?.eachNode(() => { n++; }); return n > 10; }, null, { timeout: 60000 });
      await page.waitForTimeout(3000); // the editor's own start-up requests (palette, catalogues, plugins)
      const invalid = await page.evaluate(() => {
        const R = (window as any).RED;
        const bad: string[] = [];
        const check = (n: any) => { if (n.valid === false) bad.push(`${n.type} "${n.name || n.id}": ${(n.validationErrors || []).join(', ')}`); };
        R.nodes.eachNode(check);
        R.nodes.eachConfig(check);
        return bad;
      });
      assert.deepStrictEqual(invalid, [], 'nodes of the demo flow shown invalid in the editor');
      assert.deepStrictEqual(offHost, [], 'requests to hosts other than this machine');
      assert.deepStrictEqual(failed, [], 'failed requests');
      await page.screenshot({ path: path.join(os.tmpdir(), 'genix-demo-editor.png') }); // to look at the layout
    } finally {
      await browser.close();
    }
  });

  it('stops cleanly on SIGINT (Ctrl-C)', async function () {
    const code = await proc.stop('SIGINT', 20000);
    assert.strictEqual(code, 0, proc.output().slice(-2000));
  });
});
