// A TCP proxy the test controls: cut() drops every connection and refuses new ones (a pulled cable
// or a dead switch), restore() lets traffic through again; latency() slows the server's answers.
import net from 'net';

export interface TcpProxy {
  port: number;
  /** connections currently relayed */
  connections(): number;
  /** drop all connections and refuse new ones; with blackhole, keep sockets open but swallow traffic */
  cut(opts?: { blackhole?: boolean }): void;
  restore(): void;
  /** delays everything the server sends by ms (0: none); data stays in order */
  latency(ms: number): void;
  close(): Promise<void>;
}

export function startTcpProxy(targetPort: number, listenPort = 0, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ a: net.Socket; b: net.Socket }>();
  let mode: 'open' | 'cut' | 'blackhole' = 'open';
  let latencyMs = 0;
  const server = net.createServer((a) => {
    if (mode !== 'open') { a.destroy(); return; }
    const b = net.connect(targetPort, targetHost);
    const pair = { a, b };
    pairs.add(pair);
    a.on('data', (d) => { if (mode === 'open') b.write(d); });
    let lastDue = 0;
    b.on('data', (d) => {
      if (mode !== 'open') return;
      if (latencyMs <= 0 && lastDue <= Date.now()) { a.write(d); return; }
      // never earlier than data already waiting, so a latency change cannot reorder the stream
      const now = Date.now();
      lastDue = Math.max(now + latencyMs, lastDue);
      setTimeout(() => { if (mode === 'open' && !a.destroyed) a.write(d); }, lastDue - now);
    });
    const end = () => { pairs.delete(pair); a.destroy(); b.destroy(); };
    a.on('close', end); b.on('close', end);
    a.on('error', end); b.on('error', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        connections: () => pairs.size,
        cut: (opts) => {
          mode = opts?.blackhole ? 'blackhole' : 'cut';
          if (mode === 'cut') for (const p of [...pairs]) { p.a.destroy(); p.b.destroy(); }
        },
        restore: () => {
          if (mode === 'blackhole') for (const p of [...pairs]) { p.a.destroy(); p.b.destroy(); }
          mode = 'open';
        },
        latency: (ms) => { latencyMs = Math.max(0, ms); },
        close: () => new Promise<void>((res) => {
          for (const p of [...pairs]) { p.a.destroy(); p.b.destroy(); }
          server.close(() => res());
        }),
      });
    });
  });
}
