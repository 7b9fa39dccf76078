/**
 * What CloudFormation makes of a template's conditions before it deploys anything
 * (docs/cloudformation.md, "Conditions and dependencies"): the conditions are worked out from the
 * parameter values; a resource or output whose condition is false is not part of the stack; each
 * `Fn::If` becomes the branch its condition picks; and a reference (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub`) or `DependsOn` to a resource that is not part of the stack then is a template error,
 * refused before the operation starts.
 */
import type { Template, TemplateResource } from './assembly';
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';

/** What CloudFormation answers CreateChangeSet or UpdateStack with for a template it refuses: nothing is deployed. */
export class TemplateValidationError extends Error {
  public readonly name = 'ValidationError';
}

/** The values conditions may use: the parameters and the pseudo parameters. */
export type ConditionValues = Pick<ResolveContext, 'accountId' | 'region' | 'partition' | 'stackId' | 'stackName'>;

/**
 * The template as deployed with these parameter values: no resource or output whose condition is
 * false, each `Fn::If` replaced by its branch (an `AWS::NoValue` branch stays, for the resolver to
 * drop), and no `Conditions` section. Applying it again changes nothing.
 *
 * @throws TemplateValidationError when a resource refers to, or depends on, one that is not part of the stack
 */
export function effectiveTemplate(template: Template, parameters: Readonly<Record<string, string>>, values: ConditionValues): Template {
  const conditions = evaluateConditions(template, parameters, values);
  const holds = (name: unknown, usedIn: string): boolean => {
    if (typeof name !== 'string' || !conditions.has(name)) {
      throw new TemplateValidationError(`Template format error: Unresolved condition dependency ${String(name)} in ${usedIn}`);
    }
    return conditions.get(name)!;
  };
  const pick = (node: unknown, usedIn: string): unknown => {
    if (Array.isArray(node)) {
      return node.map((item) => pick(item, usedIn));
    }
    if (!node || typeof node !== 'object') {
      return node;
    }
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === 'Fn::If') {
      const [name, ifTrue, ifFalse] = entries[0][1] as [unknown, unknown, unknown];
      return pick(holds(name, usedIn) ? ifTrue : ifFalse, usedIn);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, pick(v, usedIn)]));
  };
  const resources: Record<string, TemplateResource> = {};
  for (const [id, definition] of Object.entries(template.Resources)) {
    if (definition.Condition === undefined || holds(definition.Condition, `resource ${id}`)) {
      const { Condition: _condition, ...rest } = definition;
      resources[id] = pick(rest, `resource ${id}`) as TemplateResource;
    }
  }
  const outputs = template.Outputs === undefined ? undefined : Object.fromEntries(Object.entries(template.Outputs)
    .filter(([name, output]) => output.Condition === undefined || holds(output.Condition, `output ${name}`))
    .map(([name, { Condition: _condition, ...output }]) => [name, pick(output, `output ${name}`) as typeof output]));
  const { Conditions: _conditions, ...rest } = template;
  const effective: Template = { ...rest, Resources: resources, ...(outputs === undefined ? {} : { Outputs: outputs }) };
  const parameterNames = new Set(Object.keys(template.Parameters ?? {}));
  const unresolved = new Set<string>();
  for (const definition of Object.values(resources)) {
    for (const target of dependencies(definition)) {
      if (!(target in resources) && !parameterNames.has(target) && !target.startsWith('AWS::')) {
        unresolved.add(target);
      }
    }
  }
  if (unresolved.size > 0) {
    throw new TemplateValidationError(`Template format error: Unresolved resource dependencies [${[...unresolved].sort().join(', ')}] `
      + 'in the Resources block of the template');
  }
  return effective;
}

/** The value of every condition of the template. */
function evaluateConditions(template: Template, parameters: Readonly<Record<string, string>>, values: ConditionValues): Map<string, boolean> {
  const definitions = template.Conditions ?? {};
  const ctx: ResolveContext = {
    ...values,
    ref: (name) => parameters[name],
    getAtt: () => undefined,
  };
  const done = new Map<string, boolean>();
  const visiting = new Set<string>();
  const condition = (name: string): boolean => {
    if (done.has(name)) {
      return done.get(name)!;
    }
    if (!(name in definitions) || visiting.has(name)) {
      throw new TemplateValidationError(`Template format error: Unresolved condition dependency ${name} in the Conditions block of the template`);
    }
    visiting.add(name);
    const value = evaluate(definitions[name]);
    visiting.delete(name);
    done.set(name, value);
    return value;
  };
  const evaluate = (expression: unknown): boolean => {
    const [key, arg] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    switch (key) {
      case 'Condition':
        return condition(String(arg));
      case 'Fn::Equals': {
        const [a, b] = (arg as unknown[]).map((v) => String(resolve(v, ctx)));
        return a === b;
      }
      case 'Fn::Not':
        return !evaluate((arg as unknown[])[0]);
      case 'Fn::And':
        return (arg as unknown[]).every(evaluate);
      case 'Fn::Or':
        return (arg as unknown[]).some(evaluate);
      default:
        throw new TemplateValidationError(`Template format error: ${String(key)} is not a condition function`);
    }
  };
  return new Map(Object.keys(definitions).map((name) => [name, condition(name)]));
}

/** The logical ids a resource refers to or depends on, its Metadata included: `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn`. */
export function dependencies(resource: TemplateResource): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === 'Ref' && typeof v === 'string') {
          out.add(v);
        } else if (k === 'Fn::GetAtt') {
          out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
        } else if (k === 'Fn::Sub') {
          const [text, variables] = Array.isArray(v) ? v : [v, {}];
          for (const m of String(text).matchAll(/\$\{([^!}][^}.]*)/g)) {
            if (!(variables && typeof variables === 'object' && m[1] in variables)) {
              out.add(m[1]);
            }
          }
          walk(v);
        } else {
          walk(v);
        }
      }
    }
  };
  walk(resource.Properties);
  walk(resource.Metadata);
  for (const d of [resource.DependsOn ?? []].flat()) {
    out.add(d);
  }
  return out;
}
