// An in-process MQTT broker (aedes) on 127.0.0.1, used by the simulated plant and by tests.
import net from 'net';

// aedes ships its own types only for its newer (ESM) majors; this is the part we use.
const aedesFactory: any = require('aedes');

export interface AedesBroker {
  port: number;
  url: string;
  /** the aedes instance, for tests that want to watch publishes */
  aedes: any;
  /** stops listening and drops every client connection, as a crashed broker would */
  close(): Promise<void>;
}

export function startAedesBroker(port: number, host = '127.0.0.1'): Promise<AedesBroker> {
  const aedes = typeof aedesFactory.createBroker === 'function' ? aedesFactory.createBroker() : aedesFactory();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = (server.address() as net.AddressInfo).port;
      resolve({
        port: actual,
        url: `mqtt://${host}:${actual}`,
        aedes,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => aedes.close(() => done()));
          }),
      });
    });
  });
}
