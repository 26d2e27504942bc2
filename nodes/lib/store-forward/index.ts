// Public surface of the store-and-forward core.
export * from './buffer';
export * from './queue';
export { ENGINE_CHOICES, NoSqliteEngineError, engineAvailability, loadEngine, openDatabase, resolveChoice } from './engine';
export type { EngineChoice, EngineName, SqlDatabase, SqlEngine } from './engine';
export * from './codec';
export * from './metrics';
export * from './ledger';
export * from './expiry';
export { TokenBucket } from './token-bucket';
export { Backoff } from '../common/backoff';
