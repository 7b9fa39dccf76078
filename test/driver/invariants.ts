/**
 * The deploy-time invariants (DESIGN.md section 2), checked on what the lifecycle driver and the
 * CloudFront emulator recorded. Each function returns the violations it found, as sentences.
 */
import type { RequestRecord, StepReport } from './driver';
import { normalizePaths, planBatches } from '../../src/paths';

const GUARD_TYPE = 'Custom::CloudFrontInvalidationRollbackGuard';
import type { CloudFrontEmulator } from '../emulator/cloudfront';

/** Whether an invalidation's paths cover everything under a key prefix of the origin. */
export function coversPrefix(paths: readonly string[], prefix: string): boolean {
  const viewerPrefix = `/${prefix}`;
  return paths.some((p) => p === '/*' || (p.endsWith('*') && viewerPrefix.startsWith(p.slice(0, -1))));
}

/**
 * I1 and I4: every change of content a distribution serves (a deployment, or its revert by a
 * rollback) is followed by an invalidation of that distribution covering it, created after the
 * files landed; unless the distribution is gone by the end of the step (a failed stack creation
 * deletes it again).
 */
export function uncoveredChanges(step: StepReport, exists: (distributionId: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const change of step.content) {
    for (const distribution of change.distributions.filter(exists)) {
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

/** The inputs that decide whether an invalidation fires, compared the way CloudFront would see them. */
function sameInputs(a: Record<string, unknown> | undefined, b: Record<string, unknown>): boolean {
  if (!a) {
    return false;
  }
  const key = (p: Record<string, unknown>) => {
    try {
      return JSON.stringify([p.DistributionId, p.DistributionTenantId ?? null, normalizePaths(p.Paths as string[]), p.Trigger]);
    } catch {
      return undefined;
    }
  };
  return key(a) !== undefined && key(a) === key(b);
}

/**
 * The most invalidations a request may create, worked out from the request alone: one per batch for
 * a change, none for a Delete (but a rollback guard's or a guardless invalidation's, in a rollback's cleanup), a redelivery, an
 * Update that changes no input, a rollback guard outside a rollback, or an invalidation whose guard
 * does the rollback's purge.
 */
export function allowedInvalidations(r: RequestRecord): number {
  const rollingBack = r.stackStatus.startsWith('UPDATE_ROLLBACK_');
  const guard = r.resourceType === GUARD_TYPE;
  // A guard, or an invalidation without one, deleted by a rollback's cleanup came with the update that failed: it purges.
  const undone = (guard || r.properties.RollbackGuard !== 'true') && r.requestType === 'Delete'
    && r.stackStatus === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
  if ((r.requestType === 'Delete' && !undone) || r.phase === 'redelivery'
    || (r.requestType === 'Update' && sameInputs(r.oldProperties, r.properties))
    || (guard && !rollingBack && !undone)
    || (!guard && rollingBack && r.properties.RollbackGuard === 'true' && r.oldProperties?.RollbackGuard === 'true')) {
    return 0;
  }
  // After a rollback, one purge covers both sets of paths (the failed update's and the restored ones).
  const afterRollback = undone || r.stackStatus.startsWith('UPDATE_ROLLBACK_');
  const paths = [...r.properties.Paths as string[], ...(afterRollback ? (r.oldProperties?.Paths ?? []) as string[] : [])];
  try {
    return planBatches(normalizePaths(paths)).length;
  } catch {
    return 0;
  }
}

/** I2 and I3: a step creates no more invalidations than its requests may. */
export function duplicateInvalidations(step: StepReport): string[] {
  const allowed = step.requests.reduce((n, r) => n + allowedInvalidations(r), 0);
  if (step.invalidations.length > allowed) {
    return [`${step.invalidations.length} invalidations were created where the requests allowed ${allowed}`];
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

/**
 * I6: each delivery of a request answers it once at most (a hand-over to a fresh invocation never
 * answers a second time). Deliveries of one request may answer differently (a late duplicate may
 * find the stack rolled back); CloudFormation takes the first answer.
 */
export function extraAnswers(step: StepReport): string[] {
  return step.requests
    .filter((r) => (r.answers?.length ?? 0) > (r.deliveries ?? 0))
    .map((r) => `${r.requestType} of ${r.logicalId} (${r.phase}) was delivered ${r.deliveries} time(s) and answered ${r.answers!.length} times`);
}

/** I7: CloudFront's in-progress limits held at every submission. */
export function limitBreaches(cloudfront: CloudFrontEmulator): string[] {
  return [...cloudfront.peaks].filter(([, p]) => p.wildcards > 15 || p.paths > 3000)
    .map(([d, p]) => `${d} had ${p.wildcards} wildcard and ${p.paths} other paths in progress`);
}

/** Every invariant that a single step can break. */
export function violations(step: StepReport, cloudfront: CloudFrontEmulator): string[] {
  return [
    ...uncoveredChanges(step, (d) => cloudfront.hasDistribution(d)),
    ...duplicateInvalidations(step),
    ...failedDeletes(step),
    ...unanswered(step),
    ...extraAnswers(step),
    ...limitBreaches(cloudfront),
  ];
}
