/**
 * Pure planning: a CloudFormation request in, what to do about it out. No I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { planBatches } from './batches';
import type { ChangedFilesSettings } from './changed-paths';
import type { CloudFormationRequest } from './protocol';
import type { ChangedFilesProperties, InvalidationResourceProperties } from '../../src/shared/contract';
import { MAX_TIMEOUT_SECONDS } from '../../src/shared/contract';
import { MAX_PATHS_PER_REQUEST, normalizePaths } from '../../src/shared/paths';

/** Where invalidations go: a distribution, or one tenant of a multi-tenant distribution. */
export interface Target {
  readonly distributionId: string;
  readonly tenantId?: string;
}

/** Where a changedFiles manifest is. */
export interface ManifestLocation {
  readonly bucket: string;
  readonly key: string;
}

/** How a changedFiles Invalidation works out its paths (`InvalidationPaths.changedFiles`). */
export interface ChangedFiles {
  readonly manifest: ManifestLocation;
  readonly settings: ChangedFilesSettings;
}

/** What a change is made of; two requests with equal inputs purge the same thing. */
export interface EffectiveInputs {
  readonly target: Target;
  /** The paths; with `changedFiles`, the deployment's root wildcard, purged when the manifests cannot be compared. */
  readonly paths: readonly string[];
  readonly trigger: readonly string[];
  readonly changedFiles?: ChangedFiles;
}

/** How the handler goes about a request; not part of what triggers an invalidation. */
export interface Settings {
  readonly waitForCompletion: boolean;
  readonly timeoutSeconds: number;
  readonly failOnTimeout: boolean;
}

/** Where to look for the invalidations an earlier request made for the same inputs. */
export interface Recall {
  readonly target: Target;
  /** The inputs part of their CallerReference. */
  readonly prefix: string;
}

export interface Batch {
  /** 1-based position, as it appears in references (`<reference>-<number>`) and messages. */
  readonly number: number;
  readonly paths: readonly string[];
}

/** Invalidations to submit: where, which batches, under which CallerReference (before `-<batch>`). */
export interface Job {
  readonly target: Target;
  readonly batches: readonly Batch[];
  readonly reference: string;
}

/**
 * What a request asks for, from the request alone. Whether it is acted on also depends on the
 * stack's status (see decide.ts).
 */
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
    /** The job for `paths`; with `changedFiles`, the paths come from the manifests instead (see `withPaths`). */
    readonly job: Job;
    /** The manifests to compare, for a changedFiles Invalidation's Create or Update: `previous` is the old properties'. */
    readonly changedFiles?: { readonly current: ChangedFiles; readonly previous?: ManifestLocation };
    readonly settings: Settings;
    readonly pathCount: number;
    /** Where the invalidations of the inputs now deployed are, for a rollback's answer. */
    readonly recall: Recall;
  };

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
  const changedFiles = props.ChangedFiles === undefined ? undefined : parseChangedFiles(props.ChangedFiles);
  return {
    inputs: changedFiles ? { target, paths, trigger, changedFiles } : { target, paths, trigger },
    settings: {
      waitForCompletion: parseBoolean(props.WaitForCompletion, 'WaitForCompletion', false),
      timeoutSeconds,
      failOnTimeout: parseBoolean(props.FailOnTimeout, 'FailOnTimeout', true),
    },
  };
}

function parseChangedFiles(value: Partial<ChangedFilesProperties>): ChangedFiles {
  if (!value || typeof value !== 'object') {
    throw new Error(`ChangedFiles must be an object, got ${JSON.stringify(value)}`);
  }
  const root = requireString(value.Root, 'ChangedFiles.Root');
  if (!root.startsWith('/') || !root.endsWith('/')) {
    throw new Error(`ChangedFiles.Root ${JSON.stringify(root)} must start and end with '/'`);
  }
  const maxPaths = Number(value.MaxPaths);
  if (!Number.isInteger(maxPaths) || maxPaths < 1 || maxPaths > MAX_PATHS_PER_REQUEST) {
    throw new Error(`ChangedFiles.MaxPaths ${JSON.stringify(value.MaxPaths)} must be a whole number from 1 to ${MAX_PATHS_PER_REQUEST}`);
  }
  const indexDocument = requireString(value.IndexDocument ?? '', 'ChangedFiles.IndexDocument', true);
  return {
    manifest: { bucket: requireString(value.ManifestBucket, 'ChangedFiles.ManifestBucket'), key: requireString(value.ManifestKey, 'ChangedFiles.ManifestKey') },
    settings: {
      originPath: requireString(value.OriginPath ?? '', 'ChangedFiles.OriginPath', true).replace(/^\/+|\/+$/g, ''),
      root,
      ...(indexDocument ? { indexDocument } : {}),
      maxPaths,
    },
  };
}

function parseTarget(props: Partial<InvalidationResourceProperties>): Target {
  const distributionId = requireString(props.DistributionId, 'DistributionId');
  if (!/^[A-Za-z0-9]+$/.test(distributionId)) {
    throw new Error(`DistributionId ${JSON.stringify(distributionId)} is not a CloudFront distribution id`);
  }
  const tenantId = props.DistributionTenantId === undefined || props.DistributionTenantId === ''
    ? undefined : requireString(props.DistributionTenantId, 'DistributionTenantId');
  return tenantId ? { distributionId, tenantId } : { distributionId };
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
  // Without changedFiles, the same hash as before it existed: references stay recognizable.
  const changed = inputs.changedFiles ? [inputs.changedFiles] : [];
  return sha256(JSON.stringify([t.distributionId, t.tenantId ?? null, inputs.paths, inputs.trigger, ...changed]));
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
 * The reference of the purge after a rollback, for one target of the stack's rollback event: made
 * from the event's id, so that a second delivery of the event names the same invalidations, and
 * every rollback (a new event) new ones.
 */
export function rollbackPurgeReference(target: Target, paths: readonly string[], stackId: string, eventId: string): string {
  const prefix = inputsHash({ target, paths, trigger: ['rollback'] }).slice(0, 16);
  return `${prefix}-${sha256(`${stackId}\nrollback event ${eventId}`).slice(0, 16)}`;
}

/** The physical id of a new resource: a pure function of the request, so a retried Create gets the same one. */
export function newPhysicalId(event: Pick<CloudFormationRequest, 'StackId' | 'RequestId' | 'LogicalResourceId'>): string {
  return `${event.LogicalResourceId}-${sha256(`${event.StackId}\n${event.LogicalResourceId}\n${event.RequestId}`).slice(0, 12)}`;
}

/** Decides what a request asks for. */
export function planRequest(event: CloudFormationRequest): Plan {
  let parsed: ReturnType<typeof parseProperties>;
  try {
    parsed = parseProperties(event.ResourceProperties as Partial<InvalidationResourceProperties>);
  } catch (e) {
    // A Delete with such properties purges nothing, and answers SUCCESS (decide.ts).
    return { action: 'fail', reason: `Invalid properties: ${(e as Error).message}` };
  }
  const recall = { target: parsed.inputs.target, prefix: referencePrefix(parsed.inputs) };
  const old = event.RequestType === 'Update' ? tryParse(event.OldResourceProperties) : undefined;
  if (old && inputsHash(old.inputs) === inputsHash(parsed.inputs)) {
    return { action: 'none', why: 'the distribution, paths and trigger are unchanged', recall };
  }
  const current = parsed.inputs.changedFiles;
  const job: Job = { target: parsed.inputs.target, batches: batchesOf(parsed.inputs.paths), reference: baseCallerReference(parsed.inputs, event) };
  return {
    action: 'invalidate',
    job,
    ...(current && event.RequestType !== 'Delete' ? { changedFiles: { current, previous: old?.inputs.changedFiles?.manifest } } : {}),
    settings: parsed.settings,
    pathCount: parsed.inputs.paths.length,
    recall,
  };
}

/** The job with other (normalized) paths: a changedFiles Invalidation's, from its manifests. No batch when there is no path. */
export function withPaths(job: Job, paths: readonly string[]): Job {
  // The paths chosen are part of the reference: should a second delivery of the request choose
  // others (a manifest it could not read), it submits them as new invalidations rather than have
  // CloudFront refuse a reference it knows with other paths.
  const chosen = sha256(JSON.stringify(paths)).slice(0, 8);
  return { ...job, reference: `${job.reference}-p${chosen}`, batches: batchesOf(paths) };
}

function batchesOf(paths: readonly string[]): Batch[] {
  return paths.length === 0 ? [] : planBatches(paths).map((p, i) => ({ number: i + 1, paths: p }));
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
export function describeTarget(target: Target): string {
  return target.tenantId ? `distribution ${target.distributionId} tenant ${target.tenantId}` : `distribution ${target.distributionId}`;
}
