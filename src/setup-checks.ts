/**
 * Warnings about setups that purge twice a deploy, or never, worked out once per app when it is
 * validated (cross-stack references in place), whatever the number of Invalidations.
 */
import { Annotations, Stack } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';
import { bucketDeploymentResource } from './deployment';
import { referencedIds } from './fingerprint';
import { renderResource } from './render';

/** An Invalidation as the checks see it. */
export interface CheckedInvalidation {
  readonly scope: IConstruct;
  readonly distribution: cloudfront.IDistribution;
  /** Whether its trigger follows its own stack only (onStackChange). */
  readonly followsStack: boolean;
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

function warn(invalidations: readonly CheckedInvalidation[]): string[] {
  const root = invalidations[0].scope.node.root;
  for (const deployment of root.node.findAll().filter((c): c is s3deploy.BucketDeployment => c instanceof s3deploy.BucketDeployment)) {
    const where = Stack.of(deployment);
    const properties = renderResource(bucketDeploymentResource(deployment, 'Invalidation'))[0]?.definition.Properties as
      { DistributionId?: unknown; DestinationBucketName?: unknown } | undefined;
    const imported = JSON.stringify(properties?.DestinationBucketName ?? '').match(/"Fn::ImportValue":"([^"]*)"/)?.[1];
    for (const { scope, distribution, followsStack } of invalidations) {
      const stack = Stack.of(scope);
      const purgedByCopy = properties?.DistributionId !== undefined
        && JSON.stringify(properties.DistributionId) === distributionIdIn(where, distribution);
      if (purgedByCopy) {
        Annotations.of(scope).addWarningV2('cdk-cloudfront-invalidation:purgedTwice', `BucketDeployment ${deployment.node.path} purges `
          + `distribution ${distribution.node.path} itself (its distribution prop), and this Invalidation purges it too: two purges a deploy, `
          + 'the first while the files may still be copying. Remove distribution (and distributionPaths) from the BucketDeployment.');
      }
      const ours = [stack.stackName, Stack.of(distribution).stackName].map((name) => `${name}:`);
      // Files that another stack puts in a bucket of this one, or next to the distribution in its own stack.
      const intoOurs = imported !== undefined && ours.some((prefix) => imported.startsWith(prefix));
      if (followsStack && where !== stack && (intoOurs || where === Stack.of(distribution))) {
        Annotations.of(scope).addWarningV2('cdk-cloudfront-invalidation:contentElsewhere', `BucketDeployment ${deployment.node.path} `
          + `(stack ${where.stackName}) puts files where distribution ${distribution.node.path} serves them from, but the trigger `
          + `onStackChange follows stack ${stack.stackName} only, so new files never fire this Invalidation. Put the Invalidation in stack ${where.stackName}, or use `
          + 'trigger: InvalidationTrigger.onChangeOf(...) with a value that changes with the files.');
      }
    }
  }
  return [];
}

/**
 * The distribution's id as a template of `where` names it, as JSON: a literal id, a `Ref` in its own
 * stack, the `Fn::ImportValue` (or nested stack parameter) that CDK made for a reference from
 * `where`; undefined when `where` does not refer to it. A reference resolved in a stack that never
 * refers to the distribution stays the `Ref` of the distribution's own stack, which in `where` names
 * whatever has that logical id there (the same id in another stage's stack of the same class).
 */
function distributionIdIn(where: Stack, distribution: cloudfront.IDistribution): string | undefined {
  const home = Stack.of(distribution);
  const there = where.resolve(distribution.distributionId);
  if (where !== home && [...referencedIds(there)].some((id) => !id.startsWith('AWS::'))
    && JSON.stringify(there) === JSON.stringify(home.resolve(distribution.distributionId))) {
    return undefined;
  }
  return JSON.stringify(there);
}
