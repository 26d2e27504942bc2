// Enrichment: the node's plantId / lineId / assetId / tags, and what the payload itself carried
// (tags, statusCode, backfill), written onto each reading.

import type { Reading } from '../types';
import { Ctx, idText, mergeTags } from './fields';

export interface Enrichment {
  plantId?: string;
  lineId?: string;
  assetId?: string;
  tags?: Record<string, string>;
}

/** Configured enrichment wins over the payload's; tags are merged into a fresh object per reading. */
export function enrichReading(r: Reading, ctx: Ctx | null, e: Enrichment | null): void {
  if (ctx !== null) {
    const plant = e?.plantId ?? idText(ctx.plantId);
    if (plant !== undefined) r.plantId = plant;
    const line = e?.lineId ?? idText(ctx.lineId);
    if (line !== undefined) r.lineId = line;
    const asset = e?.assetId ?? idText(ctx.assetId);
    if (asset !== undefined) r.assetId = asset;
    const tags = mergeTags(ctx.tags, e?.tags);
    if (tags !== undefined) r.tags = tags;
    if (typeof ctx.statusCode === 'string') r.statusCode = ctx.statusCode.slice(0, 64);
    if (ctx.backfill === true) r.backfill = true;
  } else if (e !== null) {
    if (e.plantId !== undefined) r.plantId = e.plantId;
    if (e.lineId !== undefined) r.lineId = e.lineId;
    if (e.assetId !== undefined) r.assetId = e.assetId;
    if (e.tags !== undefined) r.tags = mergeTags(undefined, e.tags);
  }
}
