import assert from 'assert';
import mqtt from 'mqtt';
import { brokerKinds } from '../helpers/brokers';
import { describeIf } from '../helpers/prereq';

// The test brokers themselves work: a QoS 1 publish goes round trip on each one.
for (const bk of brokerKinds) {
  describeIf(bk.available, `${bk.kind} is not installed (apt-get install mosquitto; .ci/run installs it)`)(`test broker: ${bk.kind}`, function () {
    it('delivers a QoS 1 message to a subscriber', async function () {
      const broker = await bk.start();
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      try {
        await client.subscribeAsync('t/#', { qos: 1 });
        const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
        await client.publishAsync('t/1', 'hello', { qos: 1 });
        assert.strictEqual(await got, 'hello');
      } finally {
        await client.endAsync();
        await broker.stop();
      }
    });
  });
}
