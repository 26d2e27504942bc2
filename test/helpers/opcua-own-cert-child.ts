// Child process for the own-certificate test: runs with HOME pointing at an empty folder, deploys a
// SignAndEncrypt endpoint in a real Node-RED, uses every editor helper (certificate, trust, browse),
// waits for data, and prints one JSON line. Usage: node -r ts-node/register/transpile-only <this> <userDir> <endpointUrl>
import helper from 'node-red-node-test-helper';
import { waitFor } from './wait';

async function main(): Promise<void> {
  const [userDir, endpointUrl] = process.argv.slice(2);
  helper.init(require.resolve('node-red'));
  helper.settings({ userDir });
  await helper.startServer();
  const endpointNode = require('../../dist/nodes/genix-opcua-endpoint.js');
  const pollerNode = require('../../dist/nodes/genix-opcua-poller.js');
  const cfg = { endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authType: 'anonymous' };
  await helper.load([endpointNode, pollerNode], [
    { id: 'ep', type: 'genix-opcua-endpoint', ...cfg, acceptUnknownCertificates: false, backoffMinMs: 200, backoffMaxMs: 1000 },
    { id: 'p1', type: 'genix-opcua-poller', endpoint: 'ep', mode: 'poll', intervalMs: 100, output: 'each', items: [{ nodeId: 'ns=2;i=1001', sensorId: 'T' }], wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  let good = 0;
  helper.getNode('out').on('input', (msg: any) => { if (msg.payload?.quality === 'good') good++; });
  const shown = await helper.request().post('/genix/opcua/server-certificate').send({ endpoint: 'ep', config: cfg }).expect(200);
  await helper.request().post('/genix/opcua/trust').send({ endpoint: 'ep', config: cfg, thumbprint: shown.body.thumbprint }).expect(200);
  await waitFor(() => good > 0, 'a good reading over SignAndEncrypt', 20000);
  const browsed = await helper.request().post('/genix/opcua/browse').send({ config: cfg }).expect(200);
  await helper.unload();
  await helper.stopServer();
  process.stdout.write(`RESULT ${JSON.stringify({ good, browsed: browsed.body.children.length })}\n`);
}

main().then(() => process.exit(0), (err) => {
  process.stdout.write(`FAILED ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
