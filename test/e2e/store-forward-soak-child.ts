// A Node-RED runtime (RED.init) in its own process, started with --expose-gc, for memory measured with the
// backlog in the measured process. Protocol on the IPC channel: { cmd: 'heap' } → { heap, rss } after full GCs.
// argv: userDir port
import http from 'http';
import path from 'path';
import express from 'express';

const RED = require('node-red');

async function main(): Promise<void> {
  const [userDir, port] = process.argv.slice(2);
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir,
    flowFile: path.join(userDir, 'flows.json'),
    httpAdminRoot: '/admin',
    httpNodeRoot: '/',
    uiHost: '127.0.0.1',
    uiPort: Number(port),
    credentialSecret: false,
    telemetry: { enabled: false },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    editorTheme: { tours: false },
    disableEditor: true,
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise<void>((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
  await RED.start();
  process.on('message', (m: any) => {
    if (m && m.cmd === 'heap') {
      const gc = (global as any).gc as () => void;
      for (let i = 0; i < 4; i++) gc();
      const mu = process.memoryUsage();
      process.send!({ heap: mu.heapUsed, rss: mu.rss });
    }
  });
  process.send!({ started: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
