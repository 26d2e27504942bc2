// Public surface of the store-and-forward core.
export * from './buffer';
export * from './queue';
export * from './codec';
export * from './metrics';
export * from './ledger';
export * from './expiry';
export { TokenBucket } from './token-bucket';
export { Backoff } from '../common/backoff';
