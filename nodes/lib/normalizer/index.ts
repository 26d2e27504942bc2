// The normalizer's pure core (no node-red import): see core.ts for the pipeline.
export { Normalizer } from './core';
export type { Enrichment } from './enrich';
export type { InvalidEntry, InvalidCode } from './invalid';
export { compileConfig, checkTagKeys, ConfigError, DEFAULTS, ENRICH_TYPES } from './config';
export type { NormalizerConfig, NormalizerRule, TagSpec, ValueSpec, EnrichType, CompiledConfig } from './config';
export { tryNormalize } from './try';
export type { TryResult } from './try';
export { canonicalUnit, conversion, knownUnits } from './units';
export { parseTimestamp } from './timestamps';
export { compilePath, getPath, FORBIDDEN_KEYS } from './paths';
export { TopicParser } from './topic';
export { SparkplugReader, isSparkplug, sparkplugBytes } from './sparkplug';
export type { SparkplugResult, RebirthRequest } from './sparkplug';
