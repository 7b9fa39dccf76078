/**
 * The deploy-time invariants (DESIGN.md section 2), checked on what the lifecycle driver and the
 * CloudFront emulator recorded. Each function returns the violations it found, as sentences.
 */
import type { StepReport } from './driver';
import { normalizePaths, planBatches } from '../../src/paths';
import type { CloudFrontEmulator } from '../emulator/cloudfront';

/** Whether an invalidation's paths cover everything under a key prefix of the origin. */
export function coversPrefix(paths: readonly string[], prefix: string): boolean {
  const viewerPrefix = `/${prefix}`;
  return paths.some((p) => p === '/*' || (p.endsWith('*') && viewerPrefix.startsWith(p.slice(0, -1))));
}

/**
 * I1 and I4: every change of content a distribution serves (a deployment, or its revert by a
 * rollback) is followed by an invalidation of that distribution covering it, created after the
 * files landed.
 */
export function uncoveredChanges(step: StepReport): string[] {
  const out: string[] = [];
  for (const change of step.content) {
    for (const distribution of change.distributions) {
      const covering = step.invalidations.find((i) => i.distributionId === distribution
        && i.createdAtRequest > change.at
        && coversPrefix(i.paths, change.prefix));
      if (!covering) {
        out.push(`content ${change.version} (${change.phase}) of s3://${change.bucket}/${change.prefix} on ${distribution} was not purged after it landed`);
      }
    }
  }
  return out;
}

/**
 * I2 and I3: a step creates no more invalidations than its requests asked for: one per batch for
 * a request that changed something, none for an unchanged Update, a Delete or a redelivery.
 */
export function duplicateInvalidations(step: StepReport): string[] {
  let asked = 0;
  for (const r of step.requests) {
    if (r.requestType === 'Delete' || r.phase === 'redelivery' || r.answer?.Data?.Status === 'Unchanged') {
      continue;
    }
    try {
      asked += planBatches(normalizePaths(r.properties.Paths as string[])).length;
    } catch {
      // Invalid paths: the request fails and asks for nothing.
    }
  }
  if (step.invalidations.length > asked) {
    return [`${step.invalidations.length} invalidations were created where the requests asked for ${asked}`];
  }
  return [];
}

/** I5: no Delete created an invalidation, and every Delete succeeded. */
export function failedDeletes(step: StepReport): string[] {
  return step.requests
    .filter((r) => r.requestType === 'Delete' && r.answer?.Status !== 'SUCCESS')
    .map((r) => `Delete of ${r.logicalId} answered ${r.answer?.Status ?? 'nothing'}${r.answer?.Reason ? `: ${r.answer.Reason}` : ''}`);
}

/** I6: every request was answered within its ServiceTimeout. */
export function unanswered(step: StepReport): string[] {
  return step.requests.filter((r) => r.unanswered).map((r) => `${r.requestType} of ${r.logicalId} (${r.phase}) got no answer`);
}

/** I7: CloudFront's in-progress limits held at every submission. */
export function limitBreaches(cloudfront: CloudFrontEmulator): string[] {
  return [...cloudfront.peaks].filter(([, p]) => p.wildcards > 15 || p.paths > 3000)
    .map(([d, p]) => `${d} had ${p.wildcards} wildcard and ${p.paths} other paths in progress`);
}

/** Every invariant that a single step can break. */
export function violations(step: StepReport, cloudfront: CloudFrontEmulator): string[] {
  return [...uncoveredChanges(step), ...duplicateInvalidations(step), ...failedDeletes(step), ...unanswered(step), ...limitBreaches(cloudfront)];
}
