/**
 * CloudFront's limits on what may be in progress at once per distribution (docs/cloudfront.md,
 * "Limits and paths"), and the batches a normalized path list is split into within them. Pure
 * functions only.
 */
import { compareStrings, MAX_PATHS_PER_REQUEST, pathKind } from '../../src/shared/paths';

/** Most individual (non-wildcard) paths in progress at once per distribution. */
export const MAX_PATHS_IN_PROGRESS = 3000;
/** Most wildcard paths in progress at once per distribution. */
export const MAX_WILDCARDS_IN_PROGRESS = 15;

/**
 * Splits a normalized path list into the batches to submit, in order: each within what one request
 * may carry and what may be in progress at once, so that every batch fits an idle distribution.
 * A pure function of the list, so that a retried request plans exactly the same batches.
 */
export function planBatches(paths: readonly string[]): string[][] {
  const wildcards = paths.filter((p) => pathKind(p) === 'wildcard');
  const others = paths.filter((p) => pathKind(p) !== 'wildcard');
  const perRequest = Math.min(MAX_PATHS_PER_REQUEST, MAX_PATHS_IN_PROGRESS);
  const batches: string[][] = [];
  for (let i = 0; i < wildcards.length; i += MAX_WILDCARDS_IN_PROGRESS) {
    batches.push(wildcards.slice(i, i + MAX_WILDCARDS_IN_PROGRESS));
  }
  let b = 0;
  let next = 0;
  while (next < others.length) {
    if (b === batches.length) {
      batches.push([]);
    }
    const room = perRequest - batches[b].length;
    batches[b].push(...others.slice(next, next + room));
    next += room;
    b++;
  }
  return batches.map((batch) => batch.sort(compareStrings));
}
