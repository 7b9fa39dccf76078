/**
 * Waiting for resources that carry a CloudFormation Condition. A `DependsOn` on such a resource is
 * refused when its condition is false (the resource is not part of the stack then), and `DependsOn`
 * takes no `Fn::If`. A `Ref` in the waiting resource's Metadata, behind `Fn::If` on the same
 * condition, orders it the same way while the condition holds and names nothing when it does not
 * (docs/cloudformation.md, "Conditions and dependencies").
 */
import { CfnResource, Stack } from 'aws-cdk-lib';

/** The Metadata key under which a resource refers to the conditional resources it waits for. */
export const CONDITIONAL_DEPENDENCIES_KEY = 'cdk-cloudfront-invalidation:conditionalDependsOn';

/** A resource to wait for, and the condition it exists under, as the template names them. */
export interface ConditionalTarget {
  readonly logicalId: string;
  readonly condition: string;
}

/**
 * What a resource's Metadata holds under `CONDITIONAL_DEPENDENCIES_KEY` to wait for the targets:
 * by logical id, `{"Fn::If": [condition, {"Ref": logicalId}, {"Ref": "AWS::NoValue"}]}`;
 * undefined when there is none.
 */
export function conditionalReferences(targets: readonly ConditionalTarget[]): Record<string, unknown> | undefined {
  if (targets.length === 0) {
    return undefined;
  }
  const sorted = [...targets].sort((a, b) => (a.logicalId < b.logicalId ? -1 : a.logicalId > b.logicalId ? 1 : 0));
  return Object.fromEntries(sorted.map(({ logicalId, condition }) => [logicalId, { 'Fn::If': [condition, { Ref: logicalId }, { Ref: 'AWS::NoValue' }] }]));
}

/**
 * Turns the resource's DependsOn on resources of its stack that carry a Condition into conditional
 * references in its Metadata. Call it once CDK has turned construct dependencies into DependsOn
 * (when the app is validated): each synthesis does that anew, so each calls this anew.
 */
export function moveConditionalDependencies(resource: CfnResource): void {
  const stack = Stack.of(resource);
  const conditional = resource.obtainDependencies().filter((target): target is CfnResource => CfnResource.isCfnResource(target)
    && Stack.of(target) === stack && target.cfnOptions.condition !== undefined);
  conditional.forEach((target) => removeDependency(resource, target));
  const references = conditionalReferences(conditional.map((target) => ({
    logicalId: stack.resolve(target.logicalId) as string,
    condition: stack.resolve(target.cfnOptions.condition!.logicalId) as string,
  })));
  if (references) {
    resource.addMetadata(CONDITIONAL_DEPENDENCIES_KEY, references);
  } else if (resource.cfnOptions.metadata) {
    delete resource.cfnOptions.metadata[CONDITIONAL_DEPENDENCIES_KEY];
  }
}

/** `CfnResource` of releases where `removeDependency` is deprecated in favour of `removeResourceDependency`. */
interface RenamedDependencyApi {
  removeResourceDependency?(target: CfnResource): void;
}

/** Removes a DependsOn, with the API the installed aws-cdk-lib does not deprecate. */
function removeDependency(resource: CfnResource, target: CfnResource): void {
  const renamed = resource as unknown as RenamedDependencyApi;
  if (typeof renamed.removeResourceDependency === 'function') {
    renamed.removeResourceDependency(target);
  } else {
    resource.removeDependency(target);
  }
}
