export { freePort, waitForPort } from '../../scripts/plant/net';
