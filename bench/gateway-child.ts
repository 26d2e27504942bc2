// The gateway under benchmark: an embedded Node-RED runtime in its own process, running the flow
// in the file named by argv[2], and printing its CPU time and RSS once a second as JSON lines.
import fs from 'fs';
import { startRuntime } from './runtime';

async function main(): Promise<void> {
  const flows = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const rt = await startRuntime(flows, { settings: { logging: { console: { level: 'error' } } } });
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
  const timer = setInterval(() => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuUs: cpu.user + cpu.system, rss: process.memoryUsage().rss })}\n`);
  }, 1000);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    rt.stop().then(() => process.exit(0), () => process.exit(1));
  });
}

main().catch((err) => {
  process.stderr.write(`gateway child: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
