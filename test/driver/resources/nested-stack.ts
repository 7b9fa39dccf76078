/**
 * `AWS::CloudFormation::Stack`, a nested stack: its resource holds a stack of its own, deployed
 * from the template its TemplateURL points to in the cloud assembly, with the parameters the parent
 * passes. Creating, updating and deleting the resource runs the same operations on the nested
 * stack; its cleanup waits for the parent's, and its rollback is part of the parent's (`../rollback`).
 * Its attributes are `Outputs.<name>`, one for each output of the nested stack.
 */
import * as fs from 'fs';
import type { SynthesizedStack, Template } from '../assembly';
import { deleteStack } from '../delete-stack';
import type { DriverState } from '../driver-state';
import { resolve } from '../intrinsics';
import { ACCOUNT_ID, REGION } from '../local-cloud';
import { setStatus } from '../stack-events';
import type { Deployed, StackState } from '../stack-state';
import { parameterValues, resolveContext } from '../template-values';
import { forward } from '../update';
import type { ResourceType } from './resource-type';
import { callModel } from './simulated';

/** The nested stack resource, played by deploying the nested stack. */
export const nestedStack: ResourceType = {
  async create(context, properties) {
    const { state, stack, logicalId, type } = context;
    const name = `${stack.name}-${logicalId}-${state.prng.alphanumeric(12)}`;
    const child = state.newStack(name, `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${name}/${state.uuid()}`, { stack, logicalId });
    const deployed: Deployed = { logicalId, type, physicalId: child.id, properties, attributes: {} };
    stack.resources.set(logicalId, deployed);
    setStatus(state, child, 'CREATE_IN_PROGRESS', 'User Initiated');
    const nested = nestedTemplate(context.synthesized, child, properties);
    const failure = await forward(state, child, nested, nestedParameters(state, nested, properties), context.options);
    if (failure !== undefined) {
      const reason = `The following resource(s) failed to create: [${failure}]. `;
      setStatus(state, child, 'CREATE_FAILED', reason);
      // The parent's rollback deletes it, with what it got to create.
      stack.transition?.created.push(logicalId);
      return { physicalId: child.id, reason: `Embedded stack ${child.id} was not successfully created: ${reason}` };
    }
    child.transition = undefined;
    setStatus(state, child, 'CREATE_COMPLETE');
    deployed.attributes = nestedOutputs(state, child);
    return undefined;
  },

  async update(context, existing, properties) {
    const state = context.state;
    const child = state.nestedStack(existing.physicalId)!;
    existing.properties = properties;
    setStatus(state, child, 'UPDATE_IN_PROGRESS', 'User Initiated');
    const nested = nestedTemplate(context.synthesized, child, properties);
    const failure = await forward(state, child, nested, nestedParameters(state, nested, properties), context.options);
    if (failure !== undefined) {
      return `Embedded stack ${child.id} was not successfully updated. Currently in ${child.status} with reason: The following resource(s) failed to update: [${failure}]. `;
    }
    // Its cleanup waits for the parent's.
    setStatus(state, child, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    existing.attributes = nestedOutputs(state, child);
    return undefined;
  },

  async delete(context, deployed, removal) {
    const child = context.state.nestedStack(deployed.physicalId);
    if (child && !child.status.startsWith('DELETE')) {
      await deleteStack(context.state, child, context.phase, removal.createdNow ?? false);
    }
    await callModel(context, deployed, 'Delete', deployed.properties);
    return undefined;
  },
};

/** The template of a nested stack, from the cloud assembly its TemplateURL points into. */
function nestedTemplate(parent: SynthesizedStack, child: StackState, properties: Record<string, unknown>): SynthesizedStack {
  const key = String(properties.TemplateURL).split('/').pop()!;
  const file = parent.assetDirs.get(key);
  if (!file) {
    throw new Error(`no nested template ${key} in ${parent.assemblyDir}`);
  }
  return { ...parent, stackName: child.name, template: JSON.parse(fs.readFileSync(file, 'utf8')) as Template };
}

/** A nested stack's parameter values: its template's defaults, then what the parent passes. */
function nestedParameters(state: DriverState, nested: SynthesizedStack, properties: Record<string, unknown>): Record<string, string> {
  const given = (properties.Parameters ?? {}) as Record<string, unknown>;
  return { ...parameterValues(state, nested.template), ...Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)])) };
}

/** A nested stack resource's attributes: `Outputs.<name>` for each output of the nested stack. */
function nestedOutputs(state: DriverState, child: StackState): Record<string, unknown> {
  const outputs = child.template?.Outputs ?? {};
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [`Outputs.${name}`, resolve(o.Value, resolveContext(state, child))]));
}
