// The real buffer (built, dist/) on a real file in a process the test kills with SIGKILL. Plain JavaScript so
// that the 21 starts of the test cost a Node start each, not a TypeScript compile. IPC: the parent feeds readings
// ({ t: 'feed', from, to }) and plays the cloud ({ t: 'ans', ... } for each { t: 'fwd', ... } it gets); the child
// reports { t: 'open', backlog } and { t: 'acc', from, to } once readings are committed.
// argv: dbFile
'use strict';
const { StoreForwardBuffer } = require('../../dist/nodes/lib/store-forward');

const b = new StoreForwardBuffer({ path: process.argv[2], owner: 'kill' }, { replayRate: 0, replayBatchSize: 20, maxInFlight: 8 }, {
  forward: (o) => process.send({ t: 'fwd', seq: o.seq, token: o.token, ids: o.ids, seqs: [o.payload].flat().map((p) => p.seq) }),
});
process.send({ t: 'open', backlog: b.backlog });
process.on('message', (m) => {
  if (m.t === 'ans') b.answer(m);
  else if (m.t === 'feed') {
    let left = m.to - m.from;
    for (let i = m.from; i < m.to; i++) {
      b.accept({ payload: { seq: i } }, (err) => { if (!err && --left === 0) process.send({ t: 'acc', from: m.from, to: m.to }); });
    }
  }
});
