/**
 * Acknowledges cdk-nag rules on the library's own resources, with the reason, where each
 * generation of cdk-nag reads them, without depending on cdk-nag (docs/compliance.md):
 *
 * - cdk-nag 2.x reads the resource's CloudFormation metadata `cdk_nag.rules_to_suppress`, whose
 *   `applies_to` names the findings of rules that report several (IAM5's `Resource::...`);
 * - cdk-nag 3.x reads the construct metadata `aws:cdk:acknowledged-rules` (aws-cdk-lib's
 *   `Validations.of(scope).acknowledge`), one key per finding: `AwsSolutions-IAM5[Resource::...]`.
 */
import { Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';

/** The construct metadata key of acknowledged rules (aws-cdk-lib's `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`). */
export const ACKNOWLEDGED_RULES_KEY = 'aws:cdk:acknowledged-rules';

/** A rule acknowledged on a resource. */
export interface Acknowledgement {
  /** The rule, such as `AwsSolutions-IAM5`. */
  readonly id: string;
  readonly reason: string;
  /** For a rule with findings: each finding acknowledged, as cdk-nag writes it (`Resource::arn:...`). */
  readonly findings?: readonly string[];
}

interface SuppressedRule { id: string; reason: string; applies_to?: string[] }

/** Adds acknowledgements to a resource, next to those already there (the user's included). */
export function acknowledge(resource: CfnResource, ...acknowledgements: Acknowledgement[]): void {
  const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: SuppressedRule[] } | undefined)?.rules_to_suppress ?? [];
  const added = acknowledgements.map(({ id, reason, findings }): SuppressedRule =>
    (findings ? { id, reason, applies_to: [...findings] } : { id, reason }));
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...added] });
  const keys: Record<string, string> = {};
  for (const { id, reason, findings } of acknowledgements) {
    for (const key of findings ? findings.map((finding) => `${id}[${finding}]`) : [id]) {
      keys[key] = reason;
    }
  }
  resource.node.addMetadata(ACKNOWLEDGED_RULES_KEY, keys);
}

/**
 * A value as cdk-nag names it in a finding: resolved in its stack, then flattened (Ref to `<Id>`,
 * GetAtt to `<Id.Attribute>`, Fn::Join joined, Fn::Sub's `${x}` to `<x>`).
 */
export function findingName(scope: CfnResource, value: unknown): string {
  return flatten(Stack.of(scope).resolve(value));
}

function flatten(node: unknown): string {
  if (node === undefined) {
    return '';
  }
  if (typeof node === 'string') {
    return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  const o = node as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (o['Fn::Sub']) {
    return flatten(o['Fn::Sub']);
  }
  if (o['Fn::GetAtt']) {
    const [id, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(id)}.${flatten(attribute)}>`;
  }
  if (o['Fn::ImportValue']) {
    return flatten(o['Fn::ImportValue']);
  }
  if (o.Ref) {
    return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
