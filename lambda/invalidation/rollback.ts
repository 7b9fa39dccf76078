/**
 * The purge after a failed deploy. CloudFormation sends EventBridge a "CloudFormation Stack Status
 * Change" event at every stack status change, with durable delivery; the stack's rule matches its
 * own stack's `PURGE_STATUSES` (an update rolled back, cleanup included, also after a failed
 * rollback continued later; or a deploy that failed with rollback disabled) and hands the handler
 * every Invalidation of the template rolled back to (docs/cloudformation.md, "Stack status events").
 *
 * What the failed deploy itself named (an Invalidation moved to another distribution, wider paths,
 * an Invalidation it created) is not in that template: the handler reads it from the stack's
 * events, whose `ResourceProperties` hold the properties CloudFormation gave each Invalidation,
 * resolved, back to the stack's last stable status. The role's policy allows every distribution of
 * the account, so the template rolled back to may purge what only the failed deploy named.
 *
 * Each target is purged once, under a CallerReference made from the event's id: the same event
 * delivered twice, or retried by Lambda, creates nothing new, and every failure gets new ones.
 * Nothing answers to anyone, so nothing is dropped quietly either: when this invocation runs out of
 * time the rest goes to a fresh one, and when that cannot be started, or a target could not be
 * submitted, or the stack's events could not be read, the invocation fails, so that Lambda runs
 * the event again (twice), then the dead-letter queue keeps it.
 */
import { planBatches } from './batches';
import { CLOCK_SLACK_MS, ROLLBACK_PURGE_LIMIT_MS, STACK_EVENTS_LIMIT_MS } from './budgets';
import { deniedFor, describeError, serviceError } from './errors';
import type { Job, Target } from './plan';
import { describeTarget, rollbackPurgeReference } from './plan';
import { logPurge } from './purge-log';
import { retry, within } from './retry';
import type { Invocation, PhaseOutcome, Progress, Runtime, StackEvent, StackEventsPage } from './runtime';
import { callSignal, copyJobs, freshJob, invocationOf } from './runtime';
import { submitJob } from './submit';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../../src/shared/contract';
import { PURGE_STATUSES, RESOURCE_TYPE } from '../../src/shared/contract';
import { normalizePaths } from '../../src/shared/paths';

/** Most pages of stack events read back to the stack's last stable status. */
export const MAX_STACK_EVENT_PAGES = 50;

/** The stack statuses a failed deploy started from: its events end there. */
const STABLE_STATUSES = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

/** The type CloudFormation gives any custom resource, which its events may use instead of the template's. */
const GENERIC_CUSTOM_RESOURCE_TYPE = 'AWS::CloudFormation::CustomResource';

/** What a rollback purge's invocation hands the next one. */
export interface RollbackProgress extends Progress {
  /** What the failed deploy named, read from the stack's events by the first invocation. */
  readonly found?: RollbackPurgeTarget[];
  /** Why the stack's events could not be read in full, when they could not: the purge then fails in the end, to be run again. */
  readonly unread?: string;
}

/** Whether a payload is the stack rule's rollback purge. */
export function isRollbackPurgeEvent(payload: unknown): payload is RollbackPurgeEvent {
  return typeof payload === 'object' && payload !== null && 'rollbackPurge' in payload;
}

/**
 * Whether `given` names the stack whose id is `own`: its id, its id without the unique suffix, or
 * its name (the event's documentation does not pin the form of `detail.stack-id`).
 */
export function isOwnStack(given: string, own: string): boolean {
  if (given === own) {
    return true;
  }
  const match = /^(arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+))\/[^/]+$/.exec(own);
  return match !== null && (given === match[1] || given === match[2]);
}

/**
 * Why the event is not one to act on, or undefined when it is.
 */
export function ignoreReason(event: RollbackPurgeEvent, ownStackId: string | undefined): string | undefined {
  const purge = event.rollbackPurge;
  if (typeof purge?.eventId !== 'string' || !purge.eventId || typeof purge.stackId !== 'string' || !Array.isArray(purge.targets)) {
    return 'the rollback purge event lacks its eventId, stackId or targets';
  }
  if (ownStackId !== undefined && !isOwnStack(purge.stackId, ownStackId)) {
    return `the event is about stack ${purge.stackId}, not this handler's stack ${ownStackId}`;
  }
  if (!PURGE_STATUSES.includes(purge.status)) {
    return `the stack status ${JSON.stringify(purge.status)} is not one of ${PURGE_STATUSES.join(', ')}`;
  }
  return undefined;
}

/**
 * The jobs of a rollback purge, one per distinct target: those of the event's input, then those the
 * failed deploy named (`found`). Pure: the same event and findings always give the same jobs.
 */
export function planRollbackPurge(event: RollbackPurgeEvent, found: readonly RollbackPurgeTarget[] = []): { jobs: Job[]; fallbacks: string[] } {
  const purge = event.rollbackPurge;
  const jobs = new Map<string, Job>();
  const fallbacks: string[] = [];
  const all = [...purge.targets.map((given, i) => ({ given, name: `targets[${i}]` })), ...found.map((given, i) => ({ given, name: `failed deploy's Invalidation ${i + 1}` }))];
  for (const { given, name } of all) {
    const distributionId = typeof given?.DistributionId === 'string' ? given.DistributionId : '';
    if (!/^[A-Za-z0-9]+$/.test(distributionId)) {
      fallbacks.push(`${name}: DistributionId ${JSON.stringify(given?.DistributionId)?.slice(0, 200)} is not a distribution id; skipped`);
      continue;
    }
    const tenantId = typeof given.DistributionTenantId === 'string' && given.DistributionTenantId ? given.DistributionTenantId : undefined;
    const target: Target = tenantId ? { distributionId, tenantId } : { distributionId };
    const paths = rollbackPaths(given, (why) => fallbacks.push(`${name} (${describeTarget(target)}): ${why}; purging /* instead`));
    const reference = rollbackPurgeReference(target, paths, purge.stackId, purge.eventId);
    jobs.set(reference, { target, reference, batches: planBatches(paths).map((p, n) => ({ number: n + 1, paths: p })) });
  }
  return { jobs: [...jobs.values()], fallbacks };
}

/** The target's paths, normalized; everything (`/*`) when they cannot be read: better too much than nothing. */
function rollbackPaths(target: RollbackPurgeTarget, fallback: (why: string) => void): string[] {
  if (!Array.isArray(target.Paths) || target.Paths.some((p) => typeof p !== 'string')) {
    fallback(`Paths ${JSON.stringify(target.Paths)?.slice(0, 200)} is not a list of strings`);
    return ['/*'];
  }
  try {
    return normalizePaths(target.Paths, 'Paths');
  } catch (e) {
    fallback((e as Error).message);
    return ['/*'];
  }
}

/**
 * The Invalidation a stack event's `ResourceProperties` describe, as a purge target: its
 * distribution, tenant and paths (a changedFiles Invalidation's whole prefix); undefined when the
 * properties cannot be read.
 */
export function targetOfProperties(properties: string): RollbackPurgeTarget | undefined {
  let parsed: { DistributionId?: unknown; DistributionTenantId?: unknown; Paths?: unknown; ChangedFiles?: { Root?: unknown } };
  try {
    parsed = JSON.parse(properties) as typeof parsed;
  } catch {
    return undefined;
  }
  // Another custom resource's properties, or not an Invalidation's.
  if (typeof parsed?.DistributionId !== 'string' || !Array.isArray((parsed as { Trigger?: unknown }).Trigger)) {
    return undefined;
  }
  const root = parsed.ChangedFiles?.Root;
  const paths = typeof root === 'string' && root.startsWith('/') ? [`${root.endsWith('/') ? root : `${root}/`}*`] : parsed.Paths;
  const target = { DistributionId: parsed.DistributionId, Paths: (Array.isArray(paths) ? paths : ['/*']) as string[] };
  return typeof parsed.DistributionTenantId === 'string' && parsed.DistributionTenantId ? { ...target, DistributionTenantId: parsed.DistributionTenantId } : target;
}

/**
 * What the failed deploy named, from the stack's events (newest first): the stack-level event of
 * the purge's status closest in time to the EventBridge event, then, back to the stack's last
 * stable status before it, every Invalidation's `ResourceProperties` and the targets that the
 * stack's rule was given in that deploy (the rule's InputTemplate, which lists every Invalidation
 * of the failed template, also those the deploy never reached). An error when the status is not
 * found.
 */
export function namedInEvents(
  events: readonly StackEvent[], purge: RollbackPurgeEvent['rollbackPurge'], stackId: string,
): { found: RollbackPurgeTarget[]; error?: string; unreadable: string[] } {
  const emitted = Date.parse(purge.time);
  const stackLevel = (e: StackEvent) => e.resourceType === 'AWS::CloudFormation::Stack' && isOwnStack(e.logicalId, stackId);
  let start = -1;
  events.forEach((e, i) => {
    const distance = (x: StackEvent) => (Number.isFinite(emitted) ? Math.abs(x.timestamp - emitted) : i);
    if (stackLevel(e) && e.status === purge.status && (!Number.isFinite(emitted) || e.timestamp <= emitted + CLOCK_SLACK_MS)
      && (start === -1 || distance(e) < distance(events[start]))) {
      start = i;
    }
  });
  if (start === -1) {
    return { found: [], error: `the stack's events hold no ${purge.status} at ${purge.time}`, unreadable: [] };
  }
  const found = new Map<string, RollbackPurgeTarget>();
  const unreadable: string[] = [];
  for (const e of events.slice(start + 1)) {
    if (stackLevel(e) && STABLE_STATUSES.has(e.status)) {
      break;
    }
    if (!e.properties) {
      continue;
    }
    let targets: RollbackPurgeTarget[] | undefined;
    if (e.resourceType === RESOURCE_TYPE || e.resourceType === GENERIC_CUSTOM_RESOURCE_TYPE) {
      // CloudFormation has been seen to name a custom resource by the generic type in its events: the properties tell.
      const target = targetOfProperties(e.properties);
      targets = target ? [target] : undefined;
      if (!target && e.resourceType === RESOURCE_TYPE) {
        unreadable.push(e.logicalId);
      }
    } else if (e.resourceType === 'AWS::Events::Rule') {
      targets = targetsOfRuleProperties(e.properties);
    }
    for (const target of targets ?? []) {
      found.set(JSON.stringify(target), target);
    }
  }
  return { found: [...found.values()], unreadable };
}

/**
 * The purge targets a rule's properties carry, when the rule is the stack's purge rule (its
 * InputTemplate holds `rollbackPurge`): the template's placeholders filled in, its targets read.
 */
export function targetsOfRuleProperties(properties: string): RollbackPurgeTarget[] | undefined {
  let parsed: { Targets?: Array<{ InputTransformer?: { InputTemplate?: unknown } }> };
  try {
    parsed = JSON.parse(properties) as typeof parsed;
  } catch {
    return undefined;
  }
  for (const target of Array.isArray(parsed?.Targets) ? parsed.Targets : []) {
    const template = target?.InputTransformer?.InputTemplate;
    if (typeof template === 'string' && template.startsWith('{"rollbackPurge"')) {
      try {
        const input = JSON.parse(template.replace(/<[A-Za-z0-9_.-]+>/g, '""')) as RollbackPurgeEvent;
        return Array.isArray(input.rollbackPurge?.targets) ? input.rollbackPurge.targets : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export class RollbackPurgeRun {
  private readonly invocation: Invocation;

  constructor(
    private readonly event: RollbackPurgeEvent,
    private progress: RollbackProgress | undefined,
    private readonly rt: Runtime,
    private readonly ownStackId?: string,
  ) {
    this.invocation = invocationOf(rt);
  }

  /** Nothing answers a rollback purge: an invocation stopped short hands over from within `run`. */
  get finished(): boolean {
    return false;
  }

  async answerSent(): Promise<void> {}

  async handOff(): Promise<void> {}

  /** An unexpected error fails the invocation, so that Lambda runs the event again. */
  async crash(e: unknown): Promise<void> {
    throw e;
  }

  /** Purges every target; throws when the event should be delivered again (see the file's comment). */
  async run(): Promise<void> {
    const ignore = ignoreReason(this.event, this.ownStackId);
    if (ignore) {
      this.rt.log('ignored a rollback purge event', { why: ignore });
      return;
    }
    const purge = this.event.rollbackPurge;
    const emitted = Date.parse(purge.time);
    // From when CloudFormation emitted the event, whatever Lambda's queue and retries did since.
    const startedAt = Number.isFinite(emitted) && emitted <= this.rt.now() ? emitted : this.rt.now();
    const deadline = startedAt + ROLLBACK_PURGE_LIMIT_MS;
    if (this.progress?.found === undefined) {
      // The first invocation, or one that ran out of time reading the events before handing over.
      const read = await this.readFailedDeploy(Math.min(deadline, this.rt.now() + STACK_EVENTS_LIMIT_MS));
      if ('handoff' in read) {
        return this.continueElsewhere(this.progress ?? { startedAt, jobs: [], invocation: 1 });
      }
      this.rt.log('read the failed deploy\'s Invalidations from the stack events', { found: read.found, error: read.error });
      const jobs = planRollbackPurge(this.event, read.found).jobs.map((j) => freshJob(j.batches.length));
      this.progress = { startedAt, invocation: this.progress?.invocation ?? 1, jobs, found: read.found, unread: read.error };
    }
    const progress = this.progress;
    const planned = planRollbackPurge(this.event, progress.found);
    planned.fallbacks.forEach((why) => this.rt.log('rollback purge: a target could not be read as given', { why }));
    const failed = progress.unread ? [progress.unread] : [];
    for (const [i, job] of planned.jobs.entries()) {
      const step: PhaseOutcome = await submitJob(this.invocation, job, progress.jobs[i], deadline);
      if (step.kind === 'handoff') {
        return this.continueElsewhere(progress);
      }
      logPurge(this.rt, job, progress.jobs[i], {
        cause: 'failed deploy',
        outcome: step.kind === 'ok' ? 'accepted' : step.kind === 'fail' ? 'failed' : 'timed out',
        startedAt,
        stackId: purge.stackId,
        reason: step.kind === 'fail' ? step.reason : step.kind === 'timeout' ? step.detail : undefined,
      });
      if (step.kind === 'ok') {
        this.rt.log('purged after the failed deploy', { target: job.target, ids: progress.jobs[i].ids.join(','), callerReference: job.reference, status: purge.status });
      } else {
        const reason = step.kind === 'fail' ? step.reason : `Timed out: ${step.detail}`;
        this.rt.log('could not purge after the failed deploy', { target: job.target, reason });
        failed.push(reason);
      }
    }
    // Lambda tries again twice (what was submitted is found again by its CallerReference), then the
    // dead-letter queue keeps the event for whoever looks after the stack.
    if (failed.length > 0) {
      throw new Error(`The purge after the failed deploy of ${purge.stackId} (${purge.status}) is not complete: ${failed.join('; ')}`);
    }
  }

  /**
   * What the failed deploy named, from the stack's events (`namedInEvents`). Reads are retried
   * within `until`; what could not be read is an error, and the purge goes on with the template's
   * targets.
   */
  private async readFailedDeploy(until: number): Promise<{ found: RollbackPurgeTarget[]; error?: string } | { handoff: true }> {
    const purge = this.event.rollbackPurge;
    const stackId = this.ownStackId ?? purge.stackId;
    const emitted = Date.parse(purge.time);
    const events: StackEvent[] = [];
    const stackLevel = (e: StackEvent) => e.resourceType === 'AWS::CloudFormation::Stack' && isOwnStack(e.logicalId, stackId);
    let nextToken: string | undefined;
    let page = 0;
    const denial = deniedFor(this.rt);
    // One try reads on from the last page read: a page that failed is read again, and the pauses go on growing.
    const read = await retry(async () => {
      for (;;) {
        if (page === MAX_STACK_EVENT_PAGES) {
          return { ...namedInEvents(events, purge, stackId), error: `the stack's events of the failed deploy go back more than ${MAX_STACK_EVENT_PAGES} pages` };
        }
        const next: StackEventsPage = await this.rt.stackEvents(stackId, nextToken, callSignal(this.invocation, until));
        page++;
        events.push(...next.events);
        // Enough once a stable status older than any event that could be this one's is read.
        const oldest = next.events[next.events.length - 1];
        const pastFailure = oldest && (!Number.isFinite(emitted) || oldest.timestamp < emitted - CLOCK_SLACK_MS);
        const stableBefore = events.some((e) => stackLevel(e) && STABLE_STATUSES.has(e.status) && e.timestamp < emitted - CLOCK_SLACK_MS);
        if (!next.nextToken || (pastFailure && stableBefore)) {
          const named = namedInEvents(events, purge, stackId);
          named.unreadable.forEach((logicalId) => this.rt.log('could not read the properties of a resource in the stack events', { logicalId }));
          return named;
        }
        nextToken = next.nextToken;
      }
    }, {
      pacing: within(this.invocation, until),
      retryable: (e) => denial.retryable(e),
      failed: (e) => this.rt.log('could not read the stack events', { error: describeError(e) }),
    });
    if (read.kind === 'ok') {
      return read.value;
    }
    return read.kind === 'handoff'
      ? { handoff: true }
      : { found: [], error: `could not read what the failed deploy named: ${serviceError('CloudFormation DescribeStackEvents', read.error)}` };
  }

  private async continueElsewhere(progress: RollbackProgress): Promise<void> {
    const next: RollbackProgress = { ...progress, jobs: copyJobs(progress.jobs), invocation: progress.invocation + 1 };
    try {
      await this.rt.continueLater(this.event, next);
      this.rt.log('continuing the purge after the failed deploy in a new invocation', { invocation: next.invocation });
    } catch (e) {
      // Lambda runs the event again; what was submitted is found again by its CallerReference.
      throw new Error(`Could not continue the purge after the failed deploy in a new invocation: ${describeError(e)}`);
    }
  }
}
