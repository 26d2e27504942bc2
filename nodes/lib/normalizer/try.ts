// The editor's "try it" panel: run the dialog's (undeployed) settings on one sample message.

import type { Reading } from '../types';
import { ConfigError, NormalizerConfig } from './config';
import { Normalizer } from './core';
import type { Enrichment } from './enrich';
import type { InvalidEntry } from './invalid';

export interface TryResult {
  /** set when the settings themselves are wrong */
  configError?: string;
  readings: Reading[];
  invalid: InvalidEntry[];
}

const MAX_SHOWN = 200;

/** Normalizes `payload` (text, as stock MQTT-in delivers it) with `config`; never throws. */
export function tryNormalize(config: NormalizerConfig, topic: string, payload: unknown, enrich: Enrichment | null, now = Date.now()): TryResult {
  let n: Normalizer;
  try {
    n = new Normalizer(config);
  } catch (e: any) {
    return { configError: e instanceof ConfigError ? e.message : `cannot use these settings: ${e && e.message}`, readings: [], invalid: [] };
  }
  const readings: Reading[] = [];
  const invalid = n.normalize(topic, payload, now, enrich, readings) ?? [];
  return { readings: readings.slice(0, MAX_SHOWN), invalid: invalid.slice(0, MAX_SHOWN) };
}
