/**
 * Synth-time analysis of a stack: which resources an invalidation follows, and a fingerprint of
 * them. Runs while the template is being rendered, so it sees the stack exactly as deployed.
 */
import { createHash } from 'crypto';
import { CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { GUARD_RESOURCE_TYPE } from './contract';
import { compareStrings } from './paths';

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
  return resource.node.scopes.some((scope) => (scope as unknown as Record<symbol, unknown>)[MACHINERY] === true)
    || resource.cfnResourceType === 'AWS::CDK::Metadata';
}

function isInvalidationResource(resource: CfnResource): boolean {
  return (resource as unknown as Record<symbol, unknown>)[INVALIDATION] === true;
}

/** A resource as the template will hold it. */
export interface RenderedResource {
  readonly resource: CfnResource;
  readonly logicalId: string;
  readonly definition: Record<string, unknown>;
}

/** Renders the given resources of a stack (all of them by default), resolved as in the template. */
export function renderResources(stack: Stack, resources?: readonly CfnResource[]): RenderedResource[] {
  const all = resources ?? stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
  const rendered: RenderedResource[] = [];
  for (const resource of all) {
    const template = stack.resolve(resource._toCloudFormation()) as { Resources?: Record<string, Record<string, unknown>> };
    for (const [logicalId, definition] of Object.entries(template.Resources ?? {})) {
      rendered.push({ resource, logicalId, definition });
    }
  }
  return rendered;
}

/** Logical ids a rendered definition refers to: Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
export function referencedIds(definition: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!node || typeof node !== 'object') {
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'Ref' && typeof value === 'string') {
        ids.add(value);
      } else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(value) ? value[0] : typeof value === 'string' ? value.split('.')[0] : undefined;
        if (typeof target === 'string') {
          ids.add(target);
        }
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(value) ? value : [value, {}];
        if (typeof text === 'string') {
          for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const name = match[1].split('.')[0];
            if (!(variables && typeof variables === 'object' && name in variables)) {
              ids.add(name);
            }
          }
        }
      } else if (key === 'DependsOn') {
        (Array.isArray(value) ? value : [value]).forEach((v) => typeof v === 'string' && ids.add(v));
        continue;
      }
      visit(value);
    }
  };
  visit(definition);
  return ids;
}

/**
 * The resources of the stack an `onStackChange` invalidation follows: every resource except the
 * invalidation machinery, CDK metadata, and whatever depends (directly or not) on an invalidation.
 * Machinery is never rendered here: an invalidation's own definition is what is being worked out.
 */
export function followedResources(stack: Stack): RenderedResource[] {
  const all = stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
  const invalidationIds = all.filter(isInvalidationResource).map((r) => stack.resolve(r.logicalId) as string);
  const rendered = renderResources(stack, all.filter((r) => !isMachinery(r)));
  const dependents = new Map<string, string[]>();
  for (const r of rendered) {
    for (const target of referencedIds(r.definition)) {
      dependents.set(target, [...(dependents.get(target) ?? []), r.logicalId]);
    }
  }
  const excluded = new Set<string>();
  const queue = [...invalidationIds];
  while (queue.length > 0) {
    const id = queue.pop()!;
    for (const dependent of dependents.get(id) ?? []) {
      if (!excluded.has(dependent)) {
        excluded.add(dependent);
        queue.push(dependent);
      }
    }
  }
  return rendered.filter((r) => !excluded.has(r.logicalId)).sort((a, b) => compareStrings(a.logicalId, b.logicalId));
}

/**
 * A fingerprint of resources as the `Trigger` property holds it: a hash of their definitions
 * (without CDK's own metadata and DependsOn), followed by the deploy-time values of the
 * CloudFormation parameters they use, which CloudFormation fills in on every deploy.
 */
export function fingerprint(stack: Stack, label: string, resources: readonly RenderedResource[], omitProperties: readonly string[] = []): unknown[] {
  const entries = resources.map((r) => [r.logicalId, canonical(strip(r.definition, omitProperties))]);
  const hash = createHash('sha256').update(JSON.stringify(entries)).digest('hex');
  const parameters = new Map<string, CfnParameter>();
  for (const p of stack.node.findAll()) {
    if (p instanceof CfnParameter && Stack.of(p) === stack) {
      parameters.set(stack.resolve(p.logicalId), p);
    }
  }
  const used = new Set<string>();
  resources.forEach((r) => referencedIds(r.definition).forEach((id) => parameters.has(id) && used.add(id)));
  const values = [...used].sort(compareStrings).map((id) => {
    const isList = /List<|CommaDelimitedList/.test(parameters.get(id)!.type);
    const value = isList ? { 'Fn::Join': [',', { Ref: id }] } : { Ref: id };
    return { 'Fn::Join': ['', [`parameter:${id}=`, value]] };
  });
  return [`${label}:${hash}`, ...values];
}

function strip(definition: Record<string, unknown>, omitProperties: readonly string[]): Record<string, unknown> {
  const { DependsOn: _order, Metadata: metadata, Properties: properties, ...rest } = definition;
  const out: Record<string, unknown> = { ...rest };
  if (properties && typeof properties === 'object') {
    const kept = { ...(properties as Record<string, unknown>) };
    omitProperties.forEach((p) => delete kept[p]);
    out.Properties = kept;
  }
  const userMetadata = Object.entries((metadata ?? {}) as Record<string, unknown>).filter(([key]) => !/^aws:(cdk|asset):/.test(key));
  if (userMetadata.length > 0) {
    out.Metadata = Object.fromEntries(userMetadata);
  }
  return out;
}

/** The same value with object keys sorted, so that equal definitions serialize equally. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(canonical);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort(compareStrings).map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** An invalidation's rollback guard, and the handler it calls. */
export interface RollbackGuard {
  readonly resource: CfnResource;
  readonly handler: CfnResource;
}

/**
 * The resources of the stack that the given ones need, directly or not, through references and
 * dependencies: those must deploy first. Invalidations and their guards are not rendered (their
 * `Trigger` is worked out later); nothing needs them here.
 */
export function resourcesNeededBy(stack: Stack, start: readonly CfnResource[]): Set<CfnResource> {
  const all = stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
  const byId = new Map(all.map((r) => [stack.resolve(r.logicalId) as string, r]));
  const needs = (resource: CfnResource): CfnResource[] => {
    const ids = referencedIds(renderResources(stack, [resource]).map((r) => r.definition));
    const scoped = [...resource.node.scopes].flatMap((scope) => scope.node.dependencies)
      .flatMap((d) => d.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c)));
    return [...[...ids].map((id) => byId.get(id)), ...resource.obtainDependencies(), ...scoped]
      .filter((r): r is CfnResource => r !== undefined && CfnResource.isCfnResource(r) && Stack.of(r) === stack);
  };
  const needed = new Set<CfnResource>();
  const queue = [...start];
  while (queue.length > 0) {
    for (const next of needs(queue.pop()!)) {
      // Nothing goes through an invalidation or a guard: everything else waits for those.
      if (!needed.has(next) && !isInvalidationResource(next) && next.cfnResourceType !== GUARD_RESOURCE_TYPE) {
        needed.add(next);
        queue.push(next);
      }
    }
  }
  return needed;
}
