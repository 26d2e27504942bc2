// Example flow 05 (Sparkplug B edge node) in a real Node-RED process against the simulated plant: a primary host
// on the Sparkplug broker sees births before data, PLC and sensor devices, and an alarm event on the alarms device.
import assert from 'assert';
import mqtt from 'mqtt';
import { freePort } from '../helpers/net';
import { waitFor } from '../helpers/wait';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { SparkplugHost } from '../helpers/sparkplug-host';
import { startAedesBroker, AedesBroker } from '../../scripts/plant/aedes-broker';
import { PlantSignals } from '../../scripts/plant/signals';
import { startSensorPublisher, SensorPublisher } from '../../scripts/plant/sensors';
import { startPlantOpcuaServer, PlantOpcuaServer } from '../../scripts/plant/opcua-server';
import { exampleFlows, EXAMPLE5_SPARKPLUG } from '../../scripts/examples';

describe('example 05: Sparkplug B edge node against the simulated plant', function () {
  this.timeout(120000);
  let sensorBroker: AedesBroker;
  let spBroker: AedesBroker;
  let opcua: PlantOpcuaServer;
  let sensors: SensorPublisher;
  let red: RedProcess;
  let host: SparkplugHost;

  before(async function () {
    sensorBroker = await startAedesBroker(await freePort());
    spBroker = await startAedesBroker(await freePort());
    opcua = await startPlantOpcuaServer({ port: await freePort(), lines: 2, rateMs: 100 });
    host = await SparkplugHost.start(spBroker.url);
    const flow = exampleFlows({ sensorBrokerUrl: sensorBroker.url, cloudBrokerUrl: spBroker.url, opcuaEndpointUrl: opcua.endpointUrl }).find((g) => g.file.startsWith('05 '));
    assert.ok(flow, 'example 05 exists');
    red = await startRedProcess({ flows: flow.flow });
    sensors = await startSensorPublisher({ url: sensorBroker.url, signals: new PlantSignals({ sensors: 4, rateMs: 100, faults: 'none' }) });
  });

  after(async function () {
    await sensors?.stop().catch(() => undefined);
    await red?.stop().catch(() => undefined);
    await host?.stop().catch(() => undefined);
    await opcua?.stop().catch(() => undefined);
    await spBroker?.close().catch(() => undefined);
    await sensorBroker?.close().catch(() => undefined);
  });

  it('deploys without errors; NBIRTH, DBIRTH per device, DDATA for PLC tags and sensors; an alarm on the alarms device', async function () {
    await waitFor(() => host.log.some((m) => m.type === 'NBIRTH' && m.edgeNode === EXAMPLE5_SPARKPLUG.edgeNode), 'NBIRTH of example 05', 30000);
    const plc = () => host.log.filter((m) => m.type === 'DDATA' && m.device === 'plc-1').flatMap((m) => m.metrics);
    await waitFor(() => plc().some((m) => m.name.startsWith('PLC1-TEMP') && typeof m.value === 'number'), 'PLC tag data on device plc-1', 30000).catch((e) => {
      throw new Error(`${e.message}; devices seen: ${[...new Set(host.log.map((m) => m.device))].join(', ')}`);
    });
    await waitFor(() => host.log.some((m) => m.type === 'DDATA' && m.device === 'line-1'), 'sensor data on device line-1', 30000);
    const client = await mqtt.connectAsync(sensorBroker.url, { reconnectPeriod: 0 });
    try {
      await waitFor(async () => {
        await client.publishAsync('sensors/TEMP-77/data', JSON.stringify({ sensor_id: 'TEMP-77', temperature: 90, timestamp: Date.now() }));
        return host.data('alarms', 'TEMP-77/deviation').some((m) => m.value === 'active');
      }, 'a deviation alarm for TEMP-77 on the alarms device', 30000, 1000);
    } finally {
      await client.endAsync(true);
    }
    const types = host.types();
    for (const d of ['plc-1', 'line-1', 'alarms']) assert.ok(types.indexOf(`DBIRTH:${d}`) < types.indexOf(`DDATA:${d}`), `DBIRTH before DDATA for ${d}`);
    assert.deepStrictEqual(host.violations, []);
    assert.ok(!/\[error\]/.test(red.output()), red.output().slice(-2000));
  });
});
