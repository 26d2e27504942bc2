// Loaded by mocha before every test file (see .mocharc.json).
import helper from 'node-red-node-test-helper';

// Run node tests against the real Node-RED runtime installed as a dev dependency.
helper.init(require.resolve('node-red'));

process.on('unhandledRejection', (err) => {
  // Surface it as a test failure instead of letting it vanish.
  throw err;
});
