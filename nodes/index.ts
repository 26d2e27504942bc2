// `require('@genix/node-red-iiot')`: the pure cores behind the nodes, for scripts and tests outside
// Node-RED. The nodes themselves are registered by Node-RED from package.json's "node-red" section.
export * as normalizer from './lib/normalizer';
export { AnomalyDetector } from './lib/anomaly/detector';
export { compileRules } from './lib/anomaly/rules';
export type { Reading, AlarmEvent, Quality } from './lib/types';
