/**
 * The purge after a failed deploy: what to purge (pure functions; rollback-run.ts carries it out).
 * CloudFormation sends EventBridge a "CloudFormation Stack Status
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
import { CLOCK_SLACK_MS } from './budgets';
import type { Job, Target } from './plan';
import { describeTarget, rollbackPurgeReference } from './plan';
import type { StackEvent } from './runtime';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../../src/shared/contract';
import { PURGE_STATUSES, RESOURCE_TYPE } from '../../src/shared/contract';
import { normalizePaths } from '../../src/shared/paths';

/** The stack statuses a failed deploy started from: its events end there. */
const STABLE_STATUSES = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

/** The type CloudFormation gives any custom resource, which its events may use instead of the template's. */
const GENERIC_CUSTOM_RESOURCE_TYPE = 'AWS::CloudFormation::CustomResource';

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
  const stackLevel = (e: StackEvent) => isStackLevel(e, stackId);
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
 * Whether the stack's events read so far (newest first, `page` the last page read) reach far enough
 * back for `namedInEvents`: past any event that could be the purge's status, to a stable status
 * before it.
 */
export function readFarEnough(events: readonly StackEvent[], page: readonly StackEvent[], purge: RollbackPurgeEvent['rollbackPurge'], stackId: string): boolean {
  const emitted = Date.parse(purge.time);
  const oldest = page[page.length - 1];
  const pastFailure = oldest !== undefined && (!Number.isFinite(emitted) || oldest.timestamp < emitted - CLOCK_SLACK_MS);
  return pastFailure && events.some((e) => isStackLevel(e, stackId) && STABLE_STATUSES.has(e.status) && e.timestamp < emitted - CLOCK_SLACK_MS);
}

/** Whether a stack event is about the stack itself, not one of its resources. */
function isStackLevel(event: StackEvent, stackId: string): boolean {
  return event.resourceType === 'AWS::CloudFormation::Stack' && isOwnStack(event.logicalId, stackId);
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

