/**
 * Waiting for resources that carry a CloudFormation Condition. A `DependsOn` on such a resource is
 * refused when its condition is false (the resource is not part of the stack then), and `DependsOn`
 * takes no `Fn::If`. A `Ref` in the waiting resource's Metadata, behind `Fn::If` on the same
 * condition, orders it the same way while the condition holds and names nothing when it does not
 * (docs/cloudformation.md, "Conditions and dependencies").
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { compareStrings } from './shared/paths';
import { renderedList, renderedValue } from './stack-content';

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
  const sorted = [...targets].sort((a, b) => compareStrings(a.logicalId, b.logicalId));
  return Object.fromEntries(sorted.map(({ logicalId, condition }) => [logicalId, { 'Fn::If': [condition, { Ref: logicalId }, { Ref: 'AWS::NoValue' }] }]));
}

/**
 * Makes the resource wait for the resources of its stack that it depends on and that carry a
 * Condition through conditional references in its Metadata rather than DependsOn. Both are
 * overrides worked out when the template is rendered, once CDK has turned construct dependencies
 * into resource ones and conditions are set: the DependsOn that CDK would write, less the
 * conditional resources, which go under `CONDITIONAL_DEPENDENCIES_KEY`. The dependencies themselves
 * are left as they are.
 */
export function waitThroughConditionalReferences(resource: CfnResource): void {
  const stack = Stack.of(resource);
  // What CDK writes in DependsOn: the resources of the same stack, in the order of their construct paths.
  const targets = () => resource.obtainDependencies()
    .filter((target): target is CfnResource => CfnResource.isCfnResource(target) && Stack.of(target) === stack)
    .sort((a, b) => a.node.path.localeCompare(b.node.path));
  const id = (target: CfnResource) => stack.resolve(target.logicalId) as string;
  resource.addOverride('DependsOn', renderedList(() => targets().filter((t) => t.cfnOptions.condition === undefined).map(id), true));
  resource.addOverride(`Metadata.${CONDITIONAL_DEPENDENCIES_KEY}`, renderedValue(() => conditionalReferences(targets()
    .filter((t) => t.cfnOptions.condition !== undefined)
    .map((t) => ({ logicalId: id(t), condition: stack.resolve(t.cfnOptions.condition!.logicalId) as string })))));
}
