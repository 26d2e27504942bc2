// The real buffer (built, dist/) in a process whose file size limit (RLIMIT_FSIZE) the test lowers with prlimit:
// writes past it fail with EFBIG, which SQLite reports as SQLITE_IOERR_WRITE — a real I/O error, not a full disk.
// IPC: { t: 'feed', from, to }, { t: 'metrics' } → { t: 'metrics', m, done, dropped, errors }. argv: dbFile overflow
'use strict';
const { StoreForwardBuffer } = require('../../dist/nodes/lib/store-forward');

// without a handler SIGXFSZ would kill the process; with one, the write fails with EFBIG
process.on('SIGXFSZ', () => undefined);
const faults = [];
const b = new StoreForwardBuffer({ path: process.argv[2], owner: 'io' }, { overflow: process.argv[3], memoryMaxMessages: 2000 }, {
  forward: () => undefined,
  fault: (text, level) => faults.push({ text, level }),
});
b.pause();
let done = 0;
let dropped = 0;
let errors = 0;
process.on('message', (m) => {
  if (m.t === 'feed') {
    for (let i = m.from; i < m.to; i++) {
      b.accept({ payload: { seq: i, pad: 'x'.repeat(200) } }, (err, reason) => {
        if (err) errors++;
        else if (reason) dropped++;
        else done++;
      });
    }
  } else if (m.t === 'metrics') process.send({ t: 'metrics', m: b.metrics(), done, dropped, errors, faults });
});
process.send({ t: 'open' });
