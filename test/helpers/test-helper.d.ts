// node-red-node-test-helper ships no types; the tests use it through this loose declaration.
declare module 'node-red-node-test-helper';
