/**
 * What CloudFormation makes of a template's values for a stack: the parameter values it fills in,
 * the template as its conditions leave it, and what `Ref`, `Fn::GetAtt` and `Fn::ImportValue`
 * resolve to; and the outputs it exports.
 */
import type { SynthesizedStack, Template } from './assembly';
import { effectiveTemplate } from './conditions';
import type { DriverState } from './driver-state';
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';
import { ACCOUNT_ID, REGION } from './local-cloud';
import type { StackState } from './stack-state';
import { NESTED_STACK_TYPE } from './stack-state';

/** The synthesized stack as deployed with these parameter values: see `effectiveTemplate`. */
export function effective(
  stack: { readonly name: string; readonly id: string }, synthesized: SynthesizedStack, parameters: Record<string, string>,
): SynthesizedStack {
  const values = { accountId: ACCOUNT_ID, region: REGION, partition: 'aws', stackId: stack.id, stackName: stack.name };
  return { ...synthesized, template: effectiveTemplate(synthesized.template, parameters, values) };
}

/** What the intrinsic functions of a stack's template resolve to, from its resources, parameters and the exports. */
export function resolveContext(state: DriverState, stack: StackState): ResolveContext {
  return {
    accountId: ACCOUNT_ID,
    region: REGION,
    partition: 'aws',
    stackId: stack.id,
    stackName: stack.name,
    ref: (id) => stack.resources.get(id)?.physicalId ?? stack.parameters[id],
    getAtt: (id, attr) => {
      const r = stack.resources.get(id);
      if (!r || attr in r.attributes) {
        return r?.attributes[attr];
      }
      // Any attribute of a resource the driver fakes; a custom resource or nested stack has only what it gave.
      return r.type.startsWith('Custom::') || r.type === NESTED_STACK_TYPE ? undefined : `${r.physicalId}-${attr}`;
    },
    importValue: (name) => state.exports.get(name),
  };
}

/** Parameter values as CloudFormation fills them in: defaults, and SSM parameters' current values. */
export function parameterValues(state: DriverState, template: Template): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    if (p.Default === undefined) {
      continue;
    }
    if (p.Type.startsWith('AWS::SSM::Parameter::Value<')) {
      const value = state.ssmParameters.get(String(p.Default));
      if (value !== undefined) {
        out[name] = value;
      }
    } else {
      out[name] = String(p.Default);
    }
  }
  return out;
}

/** Makes the stack's exported outputs available to `Fn::ImportValue`. */
export function publishExports(state: DriverState, stack: StackState): void {
  for (const output of Object.values(stack.template?.Outputs ?? {})) {
    if (output.Export) {
      state.exports.set(String(resolve(output.Export.Name, resolveContext(state, stack))), resolve(output.Value, resolveContext(state, stack)));
    }
  }
}
