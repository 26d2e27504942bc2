// A real embedded Node-RED runtime (RED.init, no editor, no listening socket) for benchmarks.
// One runtime per process: `npm run bench` runs each bench file in its own process.
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';

export interface BenchRuntime {
  RED: any;
  node(id: string): any;
  stop(): Promise<void>;
  userDir: string;
}

export async function startRuntime(flows: object[], opts: { userDir?: string; settings?: object } = {}): Promise<BenchRuntime> {
  const RED = require('node-red');
  const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'genix-bench-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  const server = http.createServer();
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    nodesDir: [path.resolve(__dirname, '..', 'nodes')],
    httpAdminRoot: '/admin',
    httpNodeRoot: '/api',
    disableEditor: true,
    telemetry: { enabled: false },
    logging: { console: { level: process.env.GENIX_BENCH_LOG ?? 'warn' } },
    ...(opts.settings ?? {}),
  });
  await RED.start();
  const ids = flows.map((n: any) => n.id).filter((id: string) => id && !flows.find((f: any) => f.id === id && f.type === 'tab'));
  const deadline = Date.now() + 20000;
  while (!ids.every((id: string) => RED.nodes.getNode(id))) {
    if (Date.now() > deadline) throw new Error(`bench runtime: nodes not started: ${ids.filter((id: string) => !RED.nodes.getNode(id)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    RED,
    userDir,
    node: (id: string) => RED.nodes.getNode(id),
    stop: async () => {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Feeds `total` messages into node `srcId` in windows of `window`, waiting for `countOut()` to catch up; returns msgs/s. */
export async function pump(rt: BenchRuntime, srcId: string, make: (i: number) => object, total: number, countOut: () => number, window = 1000, perMsgOut = 1): Promise<number> {
  const src = rt.node(srcId);
  const start = process.hrtime.bigint();
  const base = countOut();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(window, total - sent);
    for (let i = 0; i < n; i++) src.receive(make(sent + i));
    sent += n;
    const want = base + sent * perMsgOut;
    while (countOut() < want) await new Promise((r) => setImmediate(r));
  }
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}
