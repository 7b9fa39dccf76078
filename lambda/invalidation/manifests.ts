/**
 * Choosing a changedFiles Invalidation's paths: reading the new and the previous manifest from the
 * asset bucket (through `Runtime`), then the pure comparison of changed-paths.ts. Whatever
 * cannot be read makes the deploy purge the deployment's whole prefix, never nothing: better too
 * much than stale content.
 *
 * The handler may read only `*.invalidation-manifest` objects, not list the bucket, so S3 answers
 * AccessDenied for a manifest that is gone (removed by `cdk gc`) as for one it may not read.
 */
import { MANIFEST_READ_LIMIT_MS } from './budgets';
import type { ChangedFilesPlan } from './changed-paths';
import { planChangedFiles } from './changed-paths';
import { describeError, errorCode, isRetryable } from './errors';
import type { ChangedFiles, ManifestLocation } from './plan';
import { retry, within } from './retry';
import type { Invocation } from './runtime';
import { callSignal } from './runtime';
import type { FileManifest } from '../../src/shared/file-manifest';
import { parseManifest } from '../../src/shared/file-manifest';

/**
 * The paths a changedFiles Invalidation purges for this request: the objects that changed between
 * the previous manifest and the new one, or the whole prefix when they cannot be compared.
 */
export async function changedFilesPlan(
  invocation: Invocation, changed: { readonly current: ChangedFiles; readonly previous?: ManifestLocation }, deadline: number,
): Promise<ChangedFilesPlan> {
  const { settings } = changed.current;
  const whole = (why: string): ChangedFilesPlan => ({ paths: [`${settings.root}*`], note: `purged ${settings.root}*: ${why}` });
  const current = await readManifest(invocation, changed.current.manifest, deadline);
  if ('problem' in current) {
    return whole(`the new manifest ${current.problem}`);
  }
  if (!changed.previous) {
    return planChangedFiles(undefined, current.manifest, settings, 'there is no earlier manifest (a first deploy, or the previous one purged other paths)');
  }
  if (changed.previous.bucket === changed.current.manifest.bucket && changed.previous.key === changed.current.manifest.key) {
    return planChangedFiles(current.manifest, current.manifest, settings);
  }
  const previous = await readManifest(invocation, changed.previous, deadline);
  if ('problem' in previous) {
    return planChangedFiles(undefined, current.manifest, settings, `the previous manifest ${previous.problem} (assets removed by cdk gc cannot be read)`);
  }
  return planChangedFiles(previous.manifest, current.manifest, settings);
}

/** A manifest, or why it cannot be read; errors that may pass are retried within the limit. */
async function readManifest(
  invocation: Invocation, location: ManifestLocation, deadline: number,
): Promise<{ manifest: FileManifest } | { problem: string }> {
  const { rt } = invocation;
  const until = Math.min(deadline, rt.now() + MANIFEST_READ_LIMIT_MS);
  const name = `s3://${location.bucket}/${location.key}`;
  const read = await retry(() => rt.readObject(location.bucket, location.key, callSignal(invocation, until)), {
    pacing: within(invocation, until),
    retryable: isRetryable,
    failed: (e) => rt.log('could not read a manifest', { manifest: name, error: describeError(e) }),
  });
  if (read.kind !== 'ok') {
    return { problem: `${name} could not be read (${errorCode(read.error)})` };
  }
  try {
    return { manifest: parseManifest(read.value) };
  } catch (e) {
    return { problem: `${name} could not be read: ${(e as Error).message}` };
  }
}
