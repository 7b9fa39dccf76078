/**
 * Pure planning: a CloudFormation request in, what to do about it out. No I/O, no clock.
 */
import { createHash } from 'node:crypto';
import type { CloudFormationRequest } from './protocol';
import type { InvalidationResourceProperties } from '../../src/contract';
import { GUARD_RESOURCE_TYPE, MAX_TIMEOUT_SECONDS } from '../../src/contract';
import { normalizePaths, planBatches } from '../../src/paths';

/** Where invalidations go: a distribution, or one tenant of a multi-tenant distribution. */
export interface Target {
  readonly distributionId: string;
  readonly tenantId?: string;
}

/**
 * A target as the properties name it: by id, or (for a rollback guard) by the logical id of the
 * distribution or tenant in the stack, looked up when it is needed.
 */
export interface TargetRef {
  readonly distributionId?: string;
  readonly distributionLogicalId?: string;
  readonly tenantId?: string;
  readonly tenantLogicalId?: string;
}

/** What a change is made of; two requests with equal inputs purge the same thing. */
export interface EffectiveInputs {
  readonly target: TargetRef;
  readonly paths: readonly string[];
  readonly trigger: readonly string[];
}

/** How the handler goes about a request; not part of what triggers an invalidation. */
export interface Settings {
  readonly waitForCompletion: boolean;
  readonly timeoutSeconds: number;
  readonly failOnTimeout: boolean;
}

/** Where to look for the invalidations an earlier request made for the same inputs. */
export interface Recall {
  readonly target: TargetRef;
  /** The inputs part of their CallerReference. */
  readonly prefix: string;
}

export interface Batch {
  /** 1-based position, as it appears in references (`<reference>-<number>`) and messages. */
  readonly number: number;
  readonly paths: readonly string[];
}

export type Plan =
  | {
    readonly action: 'none';
    readonly why: string;
    /** For an unchanged Update: where to find the invalidation made for these inputs, to answer its id again. */
    readonly recall?: Recall;
  }
  | { readonly action: 'fail'; readonly reason: string }
  | {
    readonly action: 'invalidate';
    readonly target: TargetRef;
    readonly settings: Settings;
    readonly callerReference: string;
    readonly batches: readonly Batch[];
    readonly pathCount: number;
    /**
     * Whether a deploy going forward purges (an invalidation) or not (a rollback guard, which purges
     * only after rollbacks, including the one that deletes it again).
     */
    readonly forward: boolean;
    /**
     * During a rollback: purge once the rollback is over (`defer`), or leave it to the rollback
     * guard, which every rollback of this change reaches too (`guard`).
     */
    readonly rollback: 'defer' | 'guard';
    /** What a purge after a rollback covers (see `rollbackPurge`). */
    readonly rollbackPurge: RollbackPurge;
  };

/**
 * A purge after a rollback. A request seen during a rollback may be the rollback's own Update
 * (ResourceProperties = the old properties) or a late duplicate of the failed update's Update (the
 * same two sets, the other way round); nothing in the event tells them apart. So the purge is
 * symmetric in the two: both paths lists, and a reference prefix made of both inputs hashes.
 */
export interface RollbackPurge {
  readonly prefix: string;
  readonly batches: readonly Batch[];
  readonly pathCount: number;
}

/** Reads and checks the resource properties; throws an Error naming the field and value. */
export function parseProperties(props: Partial<InvalidationResourceProperties> | undefined): { inputs: EffectiveInputs; settings: Settings } {
  if (!props || typeof props !== 'object') {
    throw new Error('ResourceProperties are missing');
  }
  const target = parseTarget(props);
  if (!Array.isArray(props.Paths)) {
    throw new Error(`Paths must be a list, got ${JSON.stringify(props.Paths)}`);
  }
  const rawPaths = props.Paths.map((p, i) => requireString(p, `Paths[${i}]`, true));
  const paths = normalizePaths(rawPaths, 'Paths');
  const trigger = Array.isArray(props.Trigger) ? props.Trigger.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : [];
  const timeoutSeconds = Number(props.TimeoutSeconds);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new Error(`TimeoutSeconds ${JSON.stringify(props.TimeoutSeconds)} must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  return {
    inputs: { target, paths, trigger },
    settings: {
      waitForCompletion: parseBoolean(props.WaitForCompletion, 'WaitForCompletion', false),
      timeoutSeconds,
      failOnTimeout: parseBoolean(props.FailOnTimeout, 'FailOnTimeout', true),
    },
  };
}

function parseTarget(props: Partial<InvalidationResourceProperties>): TargetRef {
  const optional = (value: unknown, field: string) => (value === undefined || value === '' ? undefined : requireString(value, field));
  const distributionId = optional(props.DistributionId, 'DistributionId');
  const distributionLogicalId = optional(props.DistributionLogicalId, 'DistributionLogicalId');
  if (distributionId === undefined && distributionLogicalId === undefined) {
    throw new Error('DistributionId must be a non-empty string, got undefined');
  }
  if (distributionId !== undefined && !/^[A-Za-z0-9]+$/.test(distributionId)) {
    throw new Error(`DistributionId ${JSON.stringify(distributionId)} is not a CloudFront distribution id`);
  }
  const target: Record<string, string | undefined> = {
    distributionId,
    distributionLogicalId,
    tenantId: optional(props.DistributionTenantId, 'DistributionTenantId'),
    tenantLogicalId: optional(props.DistributionTenantLogicalId, 'DistributionTenantLogicalId'),
  };
  return Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined)) as TargetRef;
}

function requireString(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw new Error(`${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) {
    return fallback;
  }
  if (value === true || value === 'true') {
    return true;
  }
  if (value === false || value === 'false') {
    return false;
  }
  throw new Error(`${field} must be 'true' or 'false', got ${JSON.stringify(value)}`);
}

/** A stable hash of the inputs; equal inputs give equal hashes on every machine. */
export function inputsHash(inputs: EffectiveInputs): string {
  const t = inputs.target;
  const canonical = JSON.stringify([t.distributionId ?? `@${t.distributionLogicalId}`, t.tenantId ?? (t.tenantLogicalId ? `@${t.tenantLogicalId}` : null), inputs.paths, inputs.trigger]);
  return sha256(canonical);
}

/** A hash of what identifies one CloudFormation request: a retry repeats it, a new request never does. */
export function requestHash(event: Pick<CloudFormationRequest, 'StackId' | 'RequestId'>): string {
  return sha256(`${event.StackId}\n${event.RequestId}`);
}

/** The part of a CallerReference that the inputs decide: equal for every request with these inputs. */
export function referencePrefix(inputs: EffectiveInputs): string {
  return inputsHash(inputs).slice(0, 16);
}

/** The reference of a request's invalidations, before the batch number. */
export function baseCallerReference(inputs: EffectiveInputs, event: Pick<CloudFormationRequest, 'StackId' | 'RequestId'>): string {
  return `${referencePrefix(inputs)}-${requestHash(event).slice(0, 16)}`;
}

/**
 * The reference of a rollback's purge: made from the stack's last update time rather than the
 * request, so that every request of one rollback (a late duplicate of the failed update's own
 * request included) names the same invalidation, and each rollback a new one.
 */
export function rollbackCallerReference(prefix: string, stackId: string, lastUpdatedTime: string): string {
  return `${prefix}-${sha256(`${stackId}\nrollback of the update of ${lastUpdatedTime}`).slice(0, 16)}`;
}

/** The physical id of a new resource: a pure function of the request, so a retried Create gets the same one. */
export function newPhysicalId(event: Pick<CloudFormationRequest, 'StackId' | 'RequestId' | 'LogicalResourceId'>): string {
  return `${event.LogicalResourceId}-${sha256(`${event.StackId}\n${event.LogicalResourceId}\n${event.RequestId}`).slice(0, 12)}`;
}

/** Decides what a request asks for. */
export function planRequest(event: CloudFormationRequest): Plan {
  const isGuard = event.ResourceType === GUARD_RESOURCE_TYPE;
  // A Delete purges only in a rollback's cleanup (see RequestRun), and an invalidation with a guard
  // leaves even that to the guard, which the same cleanup deletes.
  if (event.RequestType === 'Delete' && !isGuard && (event.ResourceProperties as Partial<InvalidationResourceProperties>)?.RollbackGuard === 'true') {
    return { action: 'none', why: 'a Delete never invalidates' };
  }
  if (isGuard && event.RequestType === 'Create') {
    return { action: 'none', why: 'a new rollback guard has no earlier content to put back' };
  }
  let parsed: ReturnType<typeof parseProperties>;
  try {
    parsed = parseProperties(event.ResourceProperties as Partial<InvalidationResourceProperties>);
  } catch (e) {
    // A Delete never fails.
    return event.RequestType === 'Delete'
      ? { action: 'none', why: 'a Delete never invalidates' }
      : { action: 'fail', reason: `Invalid properties: ${(e as Error).message}` };
  }
  if (event.RequestType === 'Update') {
    const old = tryParse(event.OldResourceProperties);
    if (old && inputsHash(old.inputs) === inputsHash(parsed.inputs)) {
      return {
        action: 'none',
        why: 'the distribution, paths and trigger are unchanged',
        recall: isGuard ? undefined : { target: parsed.inputs.target, prefix: referencePrefix(parsed.inputs) },
      };
    }
  }
  const callerReference = baseCallerReference(parsed.inputs, event);
  const batches = planBatches(parsed.inputs.paths).map((paths, i) => ({ number: i + 1, paths }));
  // A rollback reaches the guard only if it exists on both sides: deployed before, and kept by the failed update.
  const hasGuard = (props: unknown) => (props as Partial<InvalidationResourceProperties> | undefined)?.RollbackGuard === 'true';
  const guarded = hasGuard(event.ResourceProperties) && (event.RequestType !== 'Update' || hasGuard(event.OldResourceProperties));
  const other = event.RequestType === 'Update' ? tryParse(event.OldResourceProperties) : undefined;
  return {
    action: 'invalidate',
    target: parsed.inputs.target,
    // A guard has answered before it purges: there is nothing to wait for.
    settings: isGuard ? { ...parsed.settings, waitForCompletion: false } : parsed.settings,
    callerReference,
    batches,
    pathCount: parsed.inputs.paths.length,
    forward: !isGuard,
    rollback: guarded && !isGuard ? 'guard' : 'defer',
    rollbackPurge: rollbackPurge(parsed.inputs, other?.inputs),
  };
}

function rollbackPurge(inputs: EffectiveInputs, other: EffectiveInputs | undefined): RollbackPurge {
  let paths = inputs.paths;
  if (other) {
    try {
      paths = normalizePaths([...inputs.paths, ...other.paths]);
    } catch {
      // The other list was valid when it was deployed; if not, this request's own list will do.
    }
  }
  const hashes = [inputsHash(inputs), other ? inputsHash(other) : ''].sort();
  return {
    prefix: sha256(hashes.join('\n')).slice(0, 16),
    batches: planBatches(paths).map((p, i) => ({ number: i + 1, paths: p })),
    pathCount: paths.length,
  };
}

function tryParse(props: unknown): ReturnType<typeof parseProperties> | undefined {
  try {
    return parseProperties(props as Partial<InvalidationResourceProperties>);
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** How a target reads in messages. */
export function describeTarget(target: TargetRef): string {
  const distribution = `distribution ${target.distributionId ?? `(logical id ${target.distributionLogicalId})`}`;
  const tenant = target.tenantId ?? (target.tenantLogicalId ? `(logical id ${target.tenantLogicalId})` : undefined);
  return tenant ? `${distribution} tenant ${tenant}` : distribution;
}
