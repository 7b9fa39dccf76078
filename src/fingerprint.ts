/**
 * Pure analysis of rendered resources: what refers to what, which resources an invalidation
 * follows, and a fingerprint of them.
 */
import { createHash } from 'crypto';
import type { CfnParameter } from 'aws-cdk-lib';
import type { RenderedResource } from './render';
import { compareStrings } from './shared/paths';

/**
 * Calls `visit` with every object of a rendered template fragment, outermost first, and goes into
 * its values unless `visit` returns false.
 */
function eachObject(node: unknown, visit: (object: Record<string, unknown>) => boolean | void): void {
  if (Array.isArray(node)) {
    node.forEach((item) => eachObject(item, visit));
  } else if (node && typeof node === 'object' && visit(node as Record<string, unknown>) !== false) {
    Object.values(node as Record<string, unknown>).forEach((value) => eachObject(value, visit));
  }
}

/** Logical ids a rendered definition refers to: Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
export function referencedIds(definition: unknown): Set<string> {
  const ids = new Set<string>();
  eachObject(definition, (node) => {
    for (const [key, value] of Object.entries(node)) {
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
      }
    }
  });
  return ids;
}

/**
 * The resources an invalidation follows, sorted by logical id: the given ones (the stack's
 * resources less the invalidation machinery and CDK metadata) except whatever depends, directly
 * or not, on one of the invalidations (their logical ids given): those deploy after them.
 */
export function followedResources(rendered: readonly RenderedResource[], invalidationIds: readonly string[]): RenderedResource[] {
  const dependents = new Map<string, string[]>();
  for (const r of rendered) {
    for (const target of referencedIds(r.definition)) {
      let list = dependents.get(target);
      if (!list) {
        list = [];
        dependents.set(target, list);
      }
      list.push(r.logicalId);
    }
  }
  const excluded = new Set<string>();
  const queue = [...invalidationIds];
  while (queue.length > 0) {
    for (const dependent of dependents.get(queue.pop()!) ?? []) {
      if (!excluded.has(dependent)) {
        excluded.add(dependent);
        queue.push(dependent);
      }
    }
  }
  return rendered.filter((r) => !excluded.has(r.logicalId)).sort((a, b) => compareStrings(a.logicalId, b.logicalId));
}

/** One resource's share of a fingerprint; work it out once per resource and synthesis. */
export interface FingerprintEntry {
  /** The resource's logical id and canonical definition, as JSON. */
  readonly json: string;
  /** The CloudFormation parameters (logical ids) the definition uses. */
  readonly parameters: readonly string[];
  /** Other values CloudFormation resolves when it deploys the resource (intrinsics, as canonical JSON). */
  readonly values: readonly string[];
}

/**
 * Which values that CloudFormation resolves at deploy time, beyond parameters, a fingerprint holds:
 * `imports`, the `Fn::ImportValue`s (another stack's outputs change without this template
 * changing); `references`, also every `Ref`, `Fn::GetAtt` and `Fn::Sub` naming another resource
 * (for a fingerprint of some resources only: what they refer to may change, and be replaced, while
 * their own definitions stay the same).
 */
export type DeployTimeValues = 'imports' | 'references';

/** The intrinsics in a definition's properties whose value CloudFormation works out at deploy time. */
export function deployTimeValues(properties: unknown, kind: DeployTimeValues, parameters: ReadonlyMap<string, unknown>): string[] {
  const found = new Set<string>();
  const other = (name: string) => !name.startsWith('AWS::') && !parameters.has(name);
  eachObject(properties, (node) => {
    const entries = Object.entries(node);
    if (entries.length !== 1) {
      return true;
    }
    const [key, value] = entries[0];
    const take = key === 'Fn::ImportValue'
      || (kind === 'references' && (
        (key === 'Ref' && typeof value === 'string' && other(value))
        || key === 'Fn::GetAtt'
        || (key === 'Fn::Sub' && [...String(Array.isArray(value) ? value[0] : value).matchAll(/\$\{([^!}][^}]*)\}/g)].some((m) => other(m[1].split('.')[0])))));
    if (take) {
      found.add(JSON.stringify(canonical(node)));
    }
    return !take;
  });
  return [...found];
}

/**
 * A resource's share of a fingerprint: its definition without CDK's own metadata, DependsOn and
 * the given properties, with object keys sorted. `parameters` are the stack's CloudFormation
 * parameters, by logical id.
 */
export function fingerprintEntry(
  resource: RenderedResource,
  parameters: ReadonlyMap<string, CfnParameter>,
  omitProperties: readonly string[] = [],
  values: DeployTimeValues = 'imports',
): FingerprintEntry {
  const stripped = strip(resource.definition, omitProperties);
  return {
    json: JSON.stringify([resource.logicalId, canonical(stripped)]),
    parameters: [...referencedIds(resource.definition)].filter((id) => parameters.has(id)),
    values: deployTimeValues(stripped.Properties, values, parameters),
  };
}

/**
 * A fingerprint as the `Trigger` property holds it: `<label>:<hash of the entries>`, followed by
 * the deploy-time values of the CloudFormation parameters they use and of the other values the
 * entries hold (see `DeployTimeValues`), which CloudFormation works out on every deploy: when one
 * changes, the property changes.
 */
export function fingerprint(label: string, entries: readonly FingerprintEntry[], parameters: ReadonlyMap<string, CfnParameter>): unknown[] {
  // The same bytes as JSON.stringify of the list of [logicalId, definition] pairs.
  const hash = createHash('sha256').update(`[${entries.map((e) => e.json).join(',')}]`).digest('hex');
  const used = [...new Set(entries.flatMap((e) => e.parameters))].sort(compareStrings);
  const values = used.map((id) => {
    const isList = /List<|CommaDelimitedList/.test(parameters.get(id)!.type);
    const value = isList ? { 'Fn::Join': [',', { Ref: id }] } : { Ref: id };
    return { 'Fn::Join': ['', [`parameter:${id}=`, value]] };
  });
  const others = [...new Set(entries.flatMap((e) => e.values))].sort(compareStrings).map((json) => JSON.parse(json) as unknown);
  return [`${label}:${hash}`, ...values, ...others];
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
