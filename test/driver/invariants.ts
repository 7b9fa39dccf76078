/**
 * The deploy-time invariants (docs/invariants.md), checked on what the lifecycle driver, the
 * CloudFront emulator and the EventBridge stand-in recorded. Each function returns the violations
 * it found, as sentences.
 */
import type { ContentChange, EventDelivery, RequestRecord, StepReport } from './reports';
import { planBatches } from '../../lambda/invalidation/batches';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { normalizePaths } from '../../src/shared/paths';
import type { CloudFrontEmulator } from '../emulator/cloudfront';

/** The stack statuses after which the stack's rule hands the handler the purge after a failed deploy. */
const PURGE_STATUSES = ['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_FAILED', 'CREATE_FAILED'];

/** The stack statuses in which a Delete takes back what a failed deploy created, and purges. */
const UNDO_STATUSES = ['UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'];

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
  return step.content.flatMap((change) => change.distributions.filter(exists)
    .filter((d) => !covered(change, d, step))
    .map((d) => uncoveredSentence(change, d)));
}

/** Whether an invalidation's paths cover one viewer path. */
export function coversPath(paths: readonly string[], viewerPath: string): boolean {
  return paths.some((p) => p === viewerPath || (p.endsWith('*') && viewerPath.startsWith(p.slice(0, -1))));
}

/**
 * Covered: by invalidations of the distribution created after the files landed, purging the whole
 * prefix, or, when the driver knows which objects changed, each of them (the origin serves the
 * bucket from its root).
 */
function covered(change: ContentChange, distribution: string, step: StepReport): boolean {
  const after = step.invalidations.filter((i) => i.distributionId === distribution && i.createdAtRequest > change.landedAt);
  if (after.some((i) => coversPrefix(i.paths, change.prefix))) {
    return true;
  }
  return change.changedKeys !== undefined && change.changedKeys.every((k) => after.some((i) => coversPath(i.paths, `/${k}`)));
}

function uncoveredSentence(change: ContentChange, distribution: string): string {
  return `content ${change.version} (${change.phase}) of s3://${change.bucket}/${change.prefix} on ${distribution} was not purged after it landed`;
}

/** The inputs that decide whether an invalidation fires, compared the way CloudFront would see them. */
function sameInputs(a: Record<string, unknown> | undefined, b: Record<string, unknown>): boolean {
  if (!a) {
    return false;
  }
  const key = (p: Record<string, unknown>) => {
    try {
      const paths = normalizePaths(p.Paths as string[]);
      return JSON.stringify([p.DistributionId, p.DistributionTenantId ?? null, paths, p.Trigger, p.ChangedFiles ?? null]);
    } catch {
      return undefined;
    }
  };
  return key(a) !== undefined && key(a) === key(b);
}

/** How many invalidations purging these paths takes: one per batch. */
function batches(paths: unknown): number {
  try {
    return planBatches(normalizePaths(paths as string[])).length;
  } catch {
    return 0;
  }
}

/**
 * The most invalidations a request may create, worked out from the request alone: one per batch for
 * a Create, or a forward Update whose inputs changed; none for an Update during a rollback (the
 * stack's rule purges once the rollback is over), an Update that changes no input, a redelivery,
 * or a Delete, except a Delete in a rollback's cleanup (an Invalidation the failed update created:
 * it purges its own paths).
 */
export function allowedInvalidations(r: RequestRecord): number {
  if (r.phase === 'redelivery') {
    return 0;
  }
  if (r.requestType === 'Delete') {
    return UNDO_STATUSES.includes(r.stackStatus) ? batches(r.properties.Paths) : 0;
  }
  if (r.stackStatus.startsWith('UPDATE_ROLLBACK_') || (r.requestType === 'Update' && sameInputs(r.oldProperties, r.properties))) {
    return 0;
  }
  return batches(r.properties.Paths);
}

type Target = { DistributionId?: unknown; DistributionTenantId?: unknown; Paths?: unknown };

/** Targets, equal ones once. */
function distinctTargets(targets: readonly Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    let key: string;
    try {
      key = JSON.stringify([t.DistributionId, t.DistributionTenantId || null, normalizePaths(t.Paths as string[])]);
    } catch {
      key = JSON.stringify(t);
    }
    return !seen.has(key) && !!seen.add(key);
  });
}

/** The targets the rule's input names. */
function purgeTargets(payload: unknown): Target[] {
  const targets = (payload as { rollbackPurge?: { targets?: unknown } } | undefined)?.rollbackPurge?.targets;
  return Array.isArray(targets) ? targets as Target[] : [];
}

/** What the Invalidations of these requests named, in their properties and old properties: what a failed deploy may have named. */
function requestedTargets(requests: readonly RequestRecord[]): Target[] {
  return requests.flatMap((r) => [r.properties, r.oldProperties])
    .filter((p): p is Record<string, unknown> => !!p && typeof p.DistributionId === 'string')
    .map((p) => {
      const root = (p.ChangedFiles as { Root?: unknown } | undefined)?.Root;
      return { DistributionId: p.DistributionId, DistributionTenantId: p.DistributionTenantId, Paths: typeof root === 'string' ? [`${root}*`] : p.Paths };
    });
}

/**
 * The most invalidations the stack status events delivered during a step may create: for each
 * distinct purge event (`PURGE_STATUSES`) that reached its target for the first time (not handled
 * in an earlier step), one per batch of each distinct target it names or the step's requests named
 * (the handler adds what the failed deploy named, from the stack's events); a second delivery of
 * the same event none, and any other status none.
 */
export function allowedForDeliveries(deliveries: readonly EventDelivery[], requests: readonly RequestRecord[] = []): number {
  const seen = new Set<string>();
  let allowed = 0;
  for (const d of deliveries) {
    const key = `${d.eventId} ${d.targetArn}`;
    if (d.outcome !== 'invoked' || d.handledBefore || !PURGE_STATUSES.includes(d.status ?? '') || seen.has(key)) {
      continue;
    }
    seen.add(key);
    allowed += distinctTargets([...purgeTargets(d.payload), ...requestedTargets(requests)]).reduce((n, t) => n + batches(t.Paths), 0);
  }
  return allowed;
}

/** I2 and I3: a step creates no more invalidations than its requests and events may. */
export function duplicateInvalidations(step: StepReport): string[] {
  const allowed = step.requests.reduce((n, r) => n + allowedInvalidations(r), 0) + allowedForDeliveries(step.deliveries ?? [], step.requests);
  if (step.invalidations.length > allowed) {
    return [`${step.invalidations.length} invalidations were created where the requests and events allowed ${allowed}`];
  }
  return [];
}

/** I5: every Delete succeeded. */
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

/**
 * I4: every stack status event a rule matched reached its target and was handled (an invocation
 * ran to the end), unless an earlier delivery of the same event was; nothing ended in a
 * dead-letter queue or was dropped. A target whose stack was deleted meanwhile is excused: what
 * it would have purged went with it.
 */
export function unhandledEvents(step: StepReport): string[] {
  const handled = new Set((step.deliveries ?? []).filter((d) => d.handled || d.handledBefore).map((d) => `${d.eventId} ${d.targetArn}`));
  return (step.deliveries ?? [])
    .filter((d) => !handled.has(`${d.eventId} ${d.targetArn}`) && !d.targetGone)
    .map((d) => `the ${d.status ?? d.detailType} event ${d.eventId} for ${d.targetArn} was ${d.outcome === 'invoked' ? `not handled after ${d.attempts} attempt(s)` : `${d.outcome}: ${d.reason}`}`);
}

/**
 * The handler never asks for a replacement: an Update it answers keeps the physical id
 * CloudFormation sent, else CloudFormation replaces the resource and deletes the old one.
 */
export function replacements(step: StepReport): string[] {
  return step.requests
    .filter((r) => r.resourceType === RESOURCE_TYPE && r.requestType === 'Update' && r.answer?.Status === 'SUCCESS'
      && r.physicalId !== undefined && r.answer.PhysicalResourceId !== r.physicalId)
    .map((r) => `${r.logicalId} answered a new physical id on ${r.phase} (${r.physicalId} to ${r.answer!.PhysicalResourceId}): CloudFormation replaced it`);
}

/** I7: CloudFront's in-progress limits held at every submission. */
export function limitBreaches(cloudfront: CloudFrontEmulator): string[] {
  return [...cloudfront.peaks].filter(([, p]) => p.wildcards > 15 || p.paths > 3000)
    .map(([d, p]) => `${d} had ${p.wildcards} wildcard and ${p.paths} other paths in progress`);
}

/** Every invariant that a single step can break, the purge of every content change within the step included. */
export function violations(step: StepReport, cloudfront: CloudFrontEmulator): string[] {
  return [...uncoveredChanges(step, (d) => cloudfront.hasDistribution(d)), ...stepViolations(step, cloudfront)];
}

function stepViolations(step: StepReport, cloudfront: CloudFrontEmulator): string[] {
  return [
    ...duplicateInvalidations(step),
    ...failedDeletes(step),
    ...unanswered(step),
    ...extraAnswers(step),
    ...replacements(step),
    ...unhandledEvents(step),
    ...limitBreaches(cloudfront),
  ];
}

/**
 * The invariants over a sequence of steps. A rollback's purge may come in a later step: when its
 * event is delivered late (after the next step has begun), or when the rollback failed and is
 * continued later. The content such a step changed is judged once no delivery is held back and
 * no rollback is left to continue, against the invalidations made since.
 */
export class InvariantChecker {
  private pending: Array<{ readonly change: ContentChange; readonly distribution: string }> = [];

  public constructor(private readonly cloudfront: CloudFrontEmulator) {}

  /** The violations a step shows, with those of earlier content changes that are now due. */
  public check(step: StepReport): string[] {
    const exists = (d: string) => this.cloudfront.hasDistribution(d);
    const rolledBack = step.events.some((e) => e.status.startsWith('UPDATE_ROLLBACK_'));
    const waiting = step.rollbackPending || (step.heldDeliveries > 0 && (rolledBack || this.pending.length > 0));
    const candidates = [
      ...this.pending.filter((p) => !covered(p.change, p.distribution, step)),
      ...step.content.flatMap((change) => change.distributions.map((distribution) => ({ change, distribution })))
        .filter((p) => !covered(p.change, p.distribution, step)),
    ];
    const out: string[] = [];
    this.pending = [];
    for (const p of candidates) {
      if (!exists(p.distribution)) {
        continue;
      }
      if (waiting) {
        this.pending.push(p);
      } else {
        out.push(uncoveredSentence(p.change, p.distribution));
      }
    }
    return [...out, ...stepViolations(step, this.cloudfront)];
  }

  /** Content changes whose purge is still awaited. */
  public get awaiting(): number {
    return this.pending.length;
  }
}
