/**
 * CloudFront's rules for the paths of an invalidation and its limits (docs/cloudfront.md, "Limits
 * and paths"): which paths it takes, how many a request may hold, and how many may be in progress
 * on a distribution at once.
 */
import { cloudFrontError } from './cloudfront-errors';

/** The most paths one CreateInvalidation may hold. */
const MAX_PATHS_PER_REQUEST = 3000;
/** The most paths without a wildcard in progress on a distribution at once. */
const MAX_PATHS_IN_PROGRESS = 3000;
/** The most wildcard paths in progress on a distribution at once. */
const MAX_WILDCARDS_IN_PROGRESS = 15;

/** What CloudFront refuses raw in a path: it wants them percent-encoded. */
const UNSAFE_RAW = /[\u0000-\u0020"<>#{}|\\^~[\]`\u007f-\uffff]|%(?![0-9A-Fa-f]{2})/;

/** How many wildcard and other paths are in progress on a distribution. */
export interface InProgressCount {
  readonly wildcards: number;
  readonly paths: number;
}

/** Refuses a request's paths as CloudFront does: InvalidArgument for a path it does not take, BatchTooLarge for too many. */
export function validatePaths(paths: readonly string[], cacheTags: boolean): void {
  const valid = (p: string) => {
    if (p.startsWith('#')) {
      return cacheTags && p.length > 1 && p.length <= 257 && /^#[\x21-\x2b\x2d-\x7e]+$/.test(p) && !p.includes('*');
    }
    // Raw characters outside printable ASCII, RFC 1738's unsafe ones and a '%' that starts no
    // escape are refused (docs/cloudfront.md, "Limits and paths"; users report it for '[' and ']').
    return p.startsWith('/') && p.length <= 4000 && !p.slice(0, -1).includes('*') && !UNSAFE_RAW.test(p);
  };
  if (!paths.every(valid)) {
    throw cloudFrontError('InvalidArgument', 'invalidPaths');
  }
  const wildcards = paths.filter((p) => p.endsWith('*')).length;
  if (paths.length > MAX_PATHS_PER_REQUEST || wildcards > MAX_WILDCARDS_IN_PROGRESS || paths.length - wildcards > MAX_PATHS_IN_PROGRESS) {
    throw cloudFrontError('BatchTooLarge', 'tooLarge');
  }
}

/**
 * Refuses new paths that would take the distribution past its in-progress limits
 * (TooManyInvalidationsInProgress); else returns what would then be in progress.
 *
 * @param inProgress the paths of every invalidation in progress on the distribution
 */
export function checkInProgressLimits(inProgress: readonly string[], paths: readonly string[]): InProgressCount {
  const wildcards = inProgress.filter((p) => p.endsWith('*')).length;
  const others = inProgress.length - wildcards;
  const newWildcards = paths.filter((p) => p.endsWith('*')).length;
  const newOthers = paths.length - newWildcards;
  if (wildcards + newWildcards > MAX_WILDCARDS_IN_PROGRESS) {
    throw cloudFrontError('TooManyInvalidationsInProgress', 'wildcards');
  }
  if (others + newOthers > MAX_PATHS_IN_PROGRESS) {
    throw cloudFrontError('TooManyInvalidationsInProgress', 'paths');
  }
  return { wildcards: wildcards + newWildcards, paths: others + newOthers };
}
