/**
 * Warnings about setups that purge twice a deploy, or never, worked out once per app when it is
 * validated (cross-stack references in place), whatever the number of Invalidations.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';
import type { ChangedFilesRequest } from './changed-files';
import { bucketDeploymentResource } from './deployment';
import { referencedIds } from './fingerprint';
import { addWarning } from './notes';
import { renderResource } from './render';
import { normalizePaths, quote } from './shared/paths';
import type { TriggerFollows } from './stack-content';

/** An Invalidation as the checks see it. */
export interface CheckedInvalidation {
  readonly scope: IConstruct;
  readonly distribution: cloudfront.IDistribution;
  readonly distributionTenantId?: string;
  /** Its paths as given. */
  readonly paths: string[];
  /** What `InvalidationPaths.changedFiles` asked for, when its paths come from there. */
  readonly changedFiles?: ChangedFilesRequest;
  /** What its trigger follows. */
  readonly follows: TriggerFollows;
}

const registry = new WeakMap<IConstruct, CheckedInvalidation[]>();

/** Checks the Invalidation's setup when the app is validated. */
export function checkSetup(invalidation: CheckedInvalidation): void {
  const root = invalidation.scope.node.root;
  let all = registry.get(root);
  if (!all) {
    const checked: CheckedInvalidation[] = [];
    registry.set(root, checked);
    all = checked;
    invalidation.scope.node.addValidation({ validate: () => warn(checked) });
  }
  all.push(invalidation);
}

/** Whether `inner` is a nested stack of `outer`, at any depth. */
function nestedIn(inner: Stack, outer: Stack): boolean {
  for (let parent = inner.nestedStackParent; parent; parent = parent.nestedStackParent) {
    if (parent === outer) {
      return true;
    }
  }
  return false;
}

function warn(invalidations: readonly CheckedInvalidation[]): string[] {
  const root = invalidations[0].scope.node.root;
  for (const deployment of root.node.findAll().filter((c): c is s3deploy.BucketDeployment => c instanceof s3deploy.BucketDeployment)) {
    const deploymentStack = Stack.of(deployment);
    const properties = renderResource(bucketDeploymentResource(deployment, 'Invalidation'))[0]?.definition.Properties as
      { DistributionId?: unknown; DestinationBucketName?: unknown } | undefined;
    const imported = JSON.stringify(properties?.DestinationBucketName ?? '').match(/"Fn::ImportValue":"([^"]*)"/)?.[1];
    for (const { scope, distribution, follows } of invalidations) {
      const stack = Stack.of(scope);
      const followsStack = follows.kind === 'stack';
      const purgedByCopy = properties?.DistributionId !== undefined
        && JSON.stringify(properties.DistributionId) === distributionIdIn(deploymentStack, distribution);
      if (purgedByCopy) {
        addWarning(scope, 'cdk-cloudfront-invalidation:purgedTwice', `BucketDeployment ${deployment.node.path} purges `
          + `distribution ${distribution.node.path} itself (its distribution prop), and this Invalidation purges it too: two purges a deploy, `
          + 'the first while the files may still be copying. Remove distribution (and distributionPaths) from the BucketDeployment.');
      }
      const ours = [stack.stackName, Stack.of(distribution).stackName].map((name) => `${name}:`);
      // Files that another stack puts in a bucket of this one, or next to the distribution in its own stack.
      const intoOurs = imported !== undefined && ours.some((prefix) => imported.startsWith(prefix));
      // A nested stack's changes are changes of its parent's (its template URL), which onStackChange follows.
      const deploymentElsewhere = deploymentStack !== stack && !nestedIn(deploymentStack, stack);
      if (followsStack && deploymentElsewhere && (intoOurs || deploymentStack === Stack.of(distribution))) {
        addWarning(scope, 'cdk-cloudfront-invalidation:contentElsewhere', `BucketDeployment ${deployment.node.path} `
          + `(stack ${deploymentStack.node.path}) puts files where distribution ${distribution.node.path} serves them from, but the trigger `
          + `onStackChange follows stack ${stack.node.path} only, so new files never fire this Invalidation. Put the Invalidation in `
          + `stack ${deploymentStack.node.path}, or use trigger: InvalidationTrigger.onChangeOf(...) with a value that changes with the files.`);
      }
    }
  }
  warnDuplicates(invalidations);
  return [];
}

/**
 * Warns about an Invalidation that repeats an earlier one of its stack: the same distribution (the
 * same reference), tenant and paths after normalization, with a trigger that fires only on deploys
 * that fire the other's too, so that each of those deploys purges twice. A trigger fires only where
 * another does when both are onStackChange; when it is onDeployment of deployments that the other
 * follows with onDeployment, or the other is onStackChange (a deployment that deploys new content
 * changes the stack); and when it is onChangeOf of values all among the other's onChangeOf values.
 * Triggers that follow other things (onChangeOf of other values, onChangeOf next to onStackChange,
 * whose values may change with the template unchanged) fire on other deploys, and are left alone.
 */
function warnDuplicates(invalidations: readonly CheckedInvalidation[]): void {
  const groups = new Map<string, CheckedInvalidation[]>();
  for (const invalidation of invalidations) {
    const stack = Stack.of(invalidation.scope);
    const key = JSON.stringify([stack.node.path, stack.resolve(invalidation.distribution.distributionId),
      stack.resolve(invalidation.distributionTenantId) ?? null, pathsKey(invalidation)]);
    groups.set(key, [...groups.get(key) ?? [], invalidation]);
  }
  for (const group of groups.values()) {
    group.forEach((later, j) => {
      for (const earlier of group.slice(0, j)) {
        const redundant = firesWithin(later, earlier) ? later : firesWithin(earlier, later) ? earlier : undefined;
        if (redundant) {
          const other = redundant === later ? earlier : later;
          const [a, b] = [earlier.scope.node.path, later.scope.node.path];
          addWarning(later.scope, 'cdk-cloudfront-invalidation:duplicateInvalidation', `Invalidations ${a} and ${b} purge the `
            + `same paths (${describePaths(later)}) of distribution ${later.distribution.node.path}${describeTenant(later)}, and every deploy that `
            + `fires ${redundant.scope.node.path} (${describeTrigger(redundant)}) fires ${other.scope.node.path} (${describeTrigger(other)}) too: `
            + `each of those deploys purges twice, and CloudFront bills both. Remove ${redundant.scope.node.path}, or give the two different paths. `
            + '(Two Invalidations of a stack with the same distribution, tenant and paths are flagged when one trigger fires only where the other '
            + 'does: both onStackChange; onDeployment next to onStackChange, or of deployments the other onDeployment follows too; onChangeOf of '
            + 'values all among the other onChangeOf\'s.)');
          return;
        }
      }
    });
  }
}

/** The paths of an Invalidation as CloudFront gets them, as a key: normalized, or as resolved when known only at deploy time. */
function pathsKey(invalidation: CheckedInvalidation): unknown {
  const { changedFiles, paths } = invalidation;
  if (changedFiles) {
    const { deployment, ...request } = changedFiles;
    return { changedFiles: { ...request, deployment: deployment.node.path } };
  }
  if (Token.isUnresolved(paths) || paths.some((p) => Token.isUnresolved(p))) {
    return Stack.of(invalidation.scope).resolve(paths);
  }
  return normalizePaths(paths);
}

/** Whether every deploy that fires `a`'s trigger fires `b`'s too (see `warnDuplicates`). */
function firesWithin(a: CheckedInvalidation, b: CheckedInvalidation): boolean {
  const [x, y] = [a.follows, b.follows];
  if (y.kind === 'stack') {
    return x.kind === 'stack' || x.kind === 'deployments';
  }
  if (x.kind === 'deployments' && y.kind === 'deployments') {
    return x.deployments.every((d) => y.deployments.includes(d));
  }
  if (x.kind === 'values' && y.kind === 'values') {
    const stack = Stack.of(b.scope);
    const values = new Set(y.values.map((v) => JSON.stringify(stack.resolve(v))));
    return x.values.every((v) => values.has(JSON.stringify(stack.resolve(v))));
  }
  return false;
}

function describePaths(invalidation: CheckedInvalidation): string {
  if (invalidation.changedFiles) {
    return `the changed files of ${invalidation.changedFiles.deployment.node.path}`;
  }
  const key = pathsKey(invalidation);
  if (!Array.isArray(key) || key.some((p) => typeof p !== 'string')) {
    return 'known at deploy time';
  }
  return key.length <= 3 ? key.join(' ') : `${key.slice(0, 3).join(' ')} ... (${key.length} paths)`;
}

function describeTenant({ distributionTenantId: tenant }: CheckedInvalidation): string {
  return tenant === undefined ? '' : Token.isUnresolved(tenant) ? ', the same tenant' : `, tenant ${quote(tenant)}`;
}

function describeTrigger({ follows }: CheckedInvalidation): string {
  switch (follows.kind) {
    case 'stack':
      return 'onStackChange';
    case 'deployments':
      return `onDeployment of ${follows.deployments.map((d) => d.node.path).join(', ')}`;
    case 'values':
      return `onChangeOf ${follows.values.length} ${follows.values.length === 1 ? 'value' : 'values'}`;
  }
}

/**
 * The distribution's id as the template of `stack` names it, as JSON: a literal id, a `Ref` in its
 * own stack, the `Fn::ImportValue` (or nested stack parameter) that CDK made for a reference from
 * `stack`; undefined when `stack` does not refer to it. A reference resolved in a stack that never
 * refers to the distribution stays the `Ref` of the distribution's own stack, which in `stack` names
 * whatever has that logical id there (the same id in another stage's stack of the same class).
 */
function distributionIdIn(stack: Stack, distribution: cloudfront.IDistribution): string | undefined {
  const home = Stack.of(distribution);
  const there = stack.resolve(distribution.distributionId);
  if (stack !== home && [...referencedIds(there)].some((id) => !id.startsWith('AWS::'))
    && JSON.stringify(there) === JSON.stringify(home.resolve(distribution.distributionId))) {
    return undefined;
  }
  return JSON.stringify(there);
}
