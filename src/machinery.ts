/**
 * Marks on the constructs this library creates, so that the stack's analysis tells them apart
 * from the user's resources.
 */
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

// Symbol.for: two copies of the library in one app still recognize each other's marks.
const MACHINERY = Symbol.for('cdk-cloudfront-invalidation.machinery');
const INVALIDATION = Symbol.for('cdk-cloudfront-invalidation.resource');

/** Marks a construct whose resources belong to the invalidation machinery, never to what it follows. */
export function markMachinery(scope: IConstruct): void {
  Object.defineProperty(scope, MACHINERY, { value: true });
}

/** Marks the custom resource of an Invalidation. */
export function markInvalidationResource(resource: CfnResource): void {
  Object.defineProperty(resource, INVALIDATION, { value: true });
}

/** Whether a resource belongs to invalidation machinery (or is CDK metadata). */
export function isMachinery(resource: CfnResource): boolean {
  return resource.cfnResourceType === 'AWS::CDK::Metadata'
    || resource.node.scopes.some((scope) => (scope as unknown as Record<symbol, unknown>)[MACHINERY] === true);
}

/** Whether a resource is the custom resource of an Invalidation. */
export function isInvalidationResource(resource: CfnResource): boolean {
  return (resource as unknown as Record<symbol, unknown>)[INVALIDATION] === true;
}
