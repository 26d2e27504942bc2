// A TCP proxy the test controls: cut() drops every connection and refuses new ones (a pulled cable
// or a dead switch), restore() lets traffic through again.
import net from 'net';

export interface TcpProxy {
  port: number;
  /** connections currently relayed */
  connections(): number;
  /** drop all connections and refuse new ones; with blackhole, keep sockets open but swallow traffic */
  cut(opts?: { blackhole?: boolean }): void;
  restore(): void;
  close(): Promise<void>;
}

export function startTcpProxy(targetPort: number, listenPort = 0, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ a: net.Socket; b: net.Socket }>();
  let mode: 'open' | 'cut' | 'blackhole' = 'open';
  const server = net.createServer((a) => {
    if (mode !== 'open') { a.destroy(); return; }
    const b = net.connect(targetPort, targetHost);
    const pair = { a, b };
    pairs.add(pair);
    a.on('data', (d) => { if (mode === 'open') b.write(d); });
    b.on('data', (d) => { if (mode === 'open') a.write(d); });
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
        close: () => new Promise<void>((res) => {
          for (const p of [...pairs]) { p.a.destroy(); p.b.destroy(); }
          server.close(() => res());
        }),
      });
    });
  });
}
