// Pure OPC-UA helpers: NodeId parsing and nsu= resolution, status → quality, pasted item lists.
import assert from 'assert';
import { parseNodeId, resolveNodeId, defaultSensorId } from '../../nodes/lib/opcua/nodeid';
import { qualityOf, timestampOf, plainValue } from '../../nodes/lib/opcua/quality';
import { itemsFrom } from '../../nodes/lib/opcua/items';
import { classifyError } from '../../nodes/lib/opcua/connect-options';

describe('opcua core', () => {
  it('parses ns=, nsu= and bare NodeIds and rejects malformed ones with a reason', () => {
    assert.deepStrictEqual(parseNodeId('ns=2;i=1001'), { text: 'ns=2;i=1001', ns: 2, nsu: undefined, idType: 'i', id: '1001' });
    assert.strictEqual(parseNodeId(' ns=3;s=Line1.Temp ').id, 'Line1.Temp');
    assert.strictEqual(parseNodeId('i=85').ns, 0);
    const u = parseNodeId('nsu=urn:genix:plant;s=Line1.Temperature');
    assert.strictEqual(u.nsu, 'urn:genix:plant');
    assert.strictEqual(u.ns, undefined);
    for (const bad of ['', 'bogus', 'ns=2;i=abc', 'ns=2;x=1', 'nsu=;i=1', 'nsu=urn:x', 'ns=99999;i=1', 'ns=2;g=not-a-guid', 42]) {
      assert.throws(() => parseNodeId(bad), Error, `"${bad}" must be rejected`);
    }
  });

  it('resolves nsu= against the namespace array, wherever the server put the namespace', () => {
    const p = parseNodeId('nsu=urn:genix:plant;i=1001');
    assert.strictEqual(resolveNodeId(p, ['http://opcfoundation.org/UA/', 'urn:srv', 'urn:genix:plant']), 'ns=2;i=1001');
    assert.strictEqual(resolveNodeId(p, ['http://opcfoundation.org/UA/', 'urn:srv', 'urn:decoy', 'urn:genix:plant']), 'ns=3;i=1001');
    assert.throws(() => resolveNodeId(p, ['http://opcfoundation.org/UA/']), /not on the server/);
    assert.strictEqual(resolveNodeId(parseNodeId('ns=4;s=A;B'), []), 'ns=4;s=A;B');
    assert.strictEqual(defaultSensorId(parseNodeId('ns=2;s=Line1.Temp')), 'Line1.Temp');
    assert.strictEqual(defaultSensorId(parseNodeId('ns=2;i=7')), 'ns=2;i=7');
  });

  it('maps status code severity to quality and picks source, then server, then arrival time', () => {
    assert.strictEqual(qualityOf(0), 'good');
    assert.strictEqual(qualityOf(0x00A80000), 'good'); // GoodClamped-style info bits
    assert.strictEqual(qualityOf(0x40000000), 'uncertain');
    assert.strictEqual(qualityOf(0x80310000), 'bad'); // BadNoCommunication
    assert.strictEqual(qualityOf(0xC0000000), 'bad');
    assert.strictEqual(timestampOf({ sourceTimestamp: new Date(1000), serverTimestamp: new Date(2000) }, 3000), 1000);
    assert.strictEqual(timestampOf({ sourceTimestamp: null, serverTimestamp: new Date(2000) }, 3000), 2000);
    assert.strictEqual(timestampOf({ sourceTimestamp: new Date(Date.UTC(1601, 0, 1)), serverTimestamp: null }, 3000), 3000);
    assert.strictEqual(plainValue(new Date(5)), 5);
    assert.strictEqual(plainValue({ text: 'hi', locale: 'en' }), 'hi');
    assert.strictEqual(plainValue(BigInt(7)), 7);
    assert.deepStrictEqual(plainValue(new Float32Array([1, 2])), [1, 2]);
    assert.strictEqual(plainValue(undefined), null);
  });

  it('reads items from the saved array, JSON text, or pasted CSV lines', () => {
    assert.deepStrictEqual(itemsFrom([{ nodeId: 'ns=2;i=1', sensorId: 'A', unit: '' }]), [{ nodeId: 'ns=2;i=1', sensorId: 'A', unit: undefined }]);
    assert.deepStrictEqual(itemsFrom('nodeId,sensorId,unit\nns=2;i=1001,TEMP-1,degC\n\nns=2;s=Line1.Pressure,,bar\n'), [
      { nodeId: 'ns=2;i=1001', sensorId: 'TEMP-1', unit: 'degC' },
      { nodeId: 'ns=2;s=Line1.Pressure', sensorId: undefined, unit: 'bar' },
    ]);
    assert.strictEqual(itemsFrom('[{"nodeId":"ns=2;i=5"}]')[0].nodeId, 'ns=2;i=5');
    assert.deepStrictEqual(itemsFrom(null), []);
  });

  it('classifies connection errors so the status can say what to fix', () => {
    assert.strictEqual(classifyError('server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)'), 'untrusted');
    assert.strictEqual(classifyError('BadUserAccessDenied (0x801f0000)'), 'auth');
    assert.strictEqual(classifyError('connect ECONNREFUSED 127.0.0.1:4840'), 'other');
    assert.strictEqual(classifyError("Fail to connect to opc.tcp://127.0.0.1:4840 to collect server's certificate: connect ECONNREFUSED"), 'other');
  });
});
