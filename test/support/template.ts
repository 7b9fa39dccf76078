/**
 * Reading a synthesized template in the construct suites: its resources, the library's among them,
 * the order CloudFormation could deploy them in, and the input the stack's rule hands the handler.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { dependencies } from '../driver/conditions';

/** A template's resources by logical id. */
export type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[]; Metadata?: Record<string, unknown> }>;

/** The template's resources by logical id. */
export function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources;
}

/** The template's Custom::CloudFrontInvalidation resources by logical id. */
export function invalidationResources(template: Template) {
  return template.findResources(RESOURCE_TYPE);
}

/** The one entry of a record, as [key, value]; expects there is exactly one. */
export function only<T>(record: Record<string, T>): [string, T] {
  const entries = Object.entries(record);
  expect(entries).toHaveLength(1);
  return entries[0];
}

/** The one resource of a top-level construct: logical id `prefix` and an 8-digit hash. */
export function byPrefix(template: Template, prefix: string): [string, Resources[string]] {
  return only(Object.fromEntries(Object.entries(resourcesOf(template)).filter(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))));
}

/** The Trigger of the template's one Invalidation. */
export function triggerOf(template: Template): unknown[] {
  return (only(invalidationResources(template))[1] as { Properties: { Trigger: unknown[] } }).Properties.Trigger;
}

/** The logical ids of the library's handler functions. */
export function providerFunctions(template: Template) {
  return Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CloudFrontInvalidationProvider'));
}

/** The library's handler function of the stack: its resource. */
export function handlerFunctionOf(template: Template): Record<string, any> {
  return template.findResources('AWS::Lambda::Function')[providerFunctions(template)[0]];
}

/** The anchor: the resource that waits for the rest of the stack. */
export function anchorOf(template: Template): [string, Resources[string]] {
  return only(template.findResources('AWS::CloudFormation::WaitConditionHandle') as Resources);
}

/** The logical id of the handler's permissions policy. */
export function policyIdOf(template: Template): string {
  return byPrefix(template, 'CloudFrontInvalidationProviderPermissions')[0];
}

/**
 * The resources of a template in an order CloudFormation could deploy them, each after what it refers
 * to or depends on (as the lifecycle driver orders them); fails on a cycle.
 */
export function deployOrder(resources: Resources): string[] {
  const needs = new Map(Object.entries(resources).map(([id, r]) => [id, [...dependencies(r)].filter((t) => t in resources && t !== id)]));
  const order: string[] = [];
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [id, targets] of needs) {
      if (!done.has(id) && targets.every((t) => done.has(t))) {
        done.add(id);
        order.push(id);
        progress = true;
      }
    }
  }
  const stuck = [...needs.keys()].filter((id) => !done.has(id));
  expect({ inACycle: stuck }).toEqual({ inACycle: [] });
  return order;
}

/** The rule target's input as the handler receives it: event fields filled in, intrinsics kept. */
export function ruleInput(template: Template): { rollbackPurge: { eventId: string; stackId: string; status: string; time: string; targets: any[] } } {
  const [, rule] = only(template.findResources('AWS::Events::Rule'));
  const transformer = rule.Properties.Targets[0].InputTransformer;
  const inputTemplate = transformer.InputTemplate;
  const parts: unknown[] = typeof inputTemplate === 'string' ? [inputTemplate] : inputTemplate['Fn::Join'][1];
  const intrinsics: unknown[] = [];
  let text = parts.map((p) => (typeof p === 'string' ? p : `@@${intrinsics.push(p) - 1}@@`)).join('');
  for (const [key, jsonPath] of Object.entries(transformer.InputPathsMap as Record<string, string>)) {
    text = text.split(`<${key}>`).join(JSON.stringify(`event:${jsonPath}`));
  }
  return JSON.parse(text, (_key, value) => {
    const whole = typeof value === 'string' ? /^@@(\d+)@@$/.exec(value) : null;
    return whole ? intrinsics[Number(whole[1])] : value;
  });
}

/** The value inside the Fn::Split and Fn::Join chain that escapes a deploy-time value for the rule's input. */
export function unescaped(value: unknown): unknown {
  let v = value as { 'Fn::Join'?: [string, { 'Fn::Split'?: [string, unknown] }] };
  while (v && typeof v === 'object' && v['Fn::Join']?.[1]?.['Fn::Split']) {
    v = v['Fn::Join'][1]['Fn::Split']![1] as typeof v;
  }
  return v;
}

/** The length of the rule target's InputTemplate, which must be literal text. */
export function inputTemplateLength(template: Template): number {
  const [, rule] = only(template.findResources('AWS::Events::Rule'));
  const inputTemplate = rule.Properties.Targets[0].InputTransformer.InputTemplate;
  expect(typeof inputTemplate).toBe('string');
  return inputTemplate.length;
}
