/**
 * The one place that renders a resource while the app synthesizes.
 *
 * aws-cdk-lib has no public way to see a resource as the template will hold it (properties after
 * overrides, DependsOn, Metadata, Condition) before the template is written: `Stack.resolve` needs
 * the rendered form, which only the internal `CfnElement._toCloudFormation()` produces, and the
 * written template comes too late for the properties of the stack's own Invalidations. Keep every
 * use of internal API here, so an aws-cdk-lib upgrade that changes it breaks one function.
 */
import { Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';

/** A resource as the template will hold it. */
export interface RenderedResource {
  readonly resource: CfnResource;
  readonly logicalId: string;
  readonly definition: Record<string, unknown>;
}

/** Renders a resource of a stack, resolved as in the template. */
export function renderResource(resource: CfnResource): RenderedResource[] {
  const template = Stack.of(resource).resolve(resource._toCloudFormation()) as { Resources?: Record<string, Record<string, unknown>> };
  return Object.entries(template.Resources ?? {}).map(([logicalId, definition]) => ({ resource, logicalId, definition }));
}
