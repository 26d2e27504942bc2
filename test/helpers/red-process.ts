// Runs a REAL Node-RED as a child process with this package loaded, so fault tests can kill -9 it and
// start it again on the same user directory.
//
//   const red = await startRedProcess({ userDir, flows });      // resolves once "Started flows" is logged
//   await red.kill('SIGKILL');                                    // hard crash; resolves when the process is gone
//   const again = await startRedProcess({ userDir, flows, port: red.port });
//   await again.stop();                                           // SIGTERM, waits for a clean exit
//
// The package is loaded from <userDir>/node_modules/@genix/node-red-iiot, a symlink to the repository
// root, so run `npm run build` first (package.json's node-red.nodes point into dist/nodes).
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from './net';

export interface RedProcessOptions {
  /** Node-RED user directory; created when missing (a fresh temp dir when omitted) */
  userDir?: string;
  /** flow JSON written to <userDir>/flows.json before the start; omit to keep the existing file */
  flows?: object[];
  /** editor/admin port on 127.0.0.1 (a free one when omitted) */
  port?: number;
  /** extra environment for the child */
  env?: Record<string, string>;
  /** extra settings merged into the generated settings file (JSON-serialisable values only) */
  settings?: Record<string, unknown>;
  /** how long to wait for "Started flows" (default 30 s) */
  startTimeoutMs?: number;
}

export interface RedProcess {
  port: number;
  /** http://127.0.0.1:<port> (admin API and http-in nodes, httpNodeRoot '/') */
  url: string;
  userDir: string;
  child: ChildProcess;
  /** sends the signal (default SIGKILL) and resolves once the process has exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM and wait for the exit (Node-RED closes its nodes first) */
  stop(): Promise<void>;
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** everything the child wrote to stdout and stderr so far */
  output(): string;
}

const repoRoot = path.resolve(__dirname, '..', '..');

/** Symlinks this repository into <userDir>/node_modules/@genix/node-red-iiot (idempotent). */
export function linkPackage(userDir: string): void {
  const scope = path.join(userDir, 'node_modules', '@genix');
  fs.mkdirSync(scope, { recursive: true });
  const link = path.join(scope, 'node-red-iiot');
  try {
    if (fs.readlinkSync(link) === repoRoot) return;
    fs.unlinkSync(link);
  } catch { /* not there yet */ }
  fs.symlinkSync(repoRoot, link, 'dir');
}

export async function startRedProcess(opts: RedProcessOptions = {}): Promise<RedProcess> {
  const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'genix-red-'));
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  if (opts.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 1));
  const port = opts.port ?? (await freePort());
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpNodeRoot: '/',
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false },
    ...(opts.settings ?? {}),
  };
  const settingsFile = path.join(userDir, 'genix-test-settings.js');
  fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 1)};\n`);
  const redJs = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const child = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', userDir], {
    cwd: userDir,
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let started: () => void;
  const startedP = new Promise<void>((resolve) => { started = resolve; });
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2000000) out = out.slice(-1000000);
    if (/Started flows/.test(out)) started();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const timeoutMs = opts.startTimeoutMs ?? 30000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    startedP.then(() => 'started' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); }),
  ]);
  if (timer) clearTimeout(timer);
  if (outcome !== 'started') {
    if (outcome === 'timeout') child.kill('SIGKILL');
    throw new Error(`Node-RED child did not start flows (${outcome}); output:\n${out.slice(-4000)}`);
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    userDir,
    child,
    kill,
    stop: () => kill('SIGTERM'),
    waitForExit: () => exited,
    output: () => out,
  };
}
