/**
 * A simulated resource type: CloudFormation's create, update and delete of a resource the driver
 * does not run, made from what is particular to the type (`SimulatedResource`), with the stand-in
 * for its handler (`DriverOptions.customResources`) called once the resource is applied.
 */
import { ValidationException } from '../../emulator/eventbridge-input';
import { ACCOUNT_ID, REGION } from '../local-cloud';
import { replaceResource } from '../replacement';
import type { Deployed } from '../stack-state';
import type { ResourceContext, ResourceType, SimulatedResource } from './resource-type';

/** A resource type made from what is particular to it. */
export function simulated(resource: SimulatedResource): ResourceType {
  return {
    async create(context, properties) {
      const { state, stack, logicalId, type } = context;
      const suffix = state.prng.alphanumeric(12);
      const names = { suffix, name: `${stack.name}-${logicalId}`.slice(0, 40) + `-${suffix}` };
      const { physicalId, attributes } = resource.identity(context, properties, names);
      const deployed: Deployed = { logicalId, type, physicalId, properties, attributes };
      stack.resources.set(logicalId, deployed);
      const refused = refusedApply(() => resource.apply?.(context, deployed));
      if (refused !== undefined) {
        stack.resources.delete(logicalId);
        return { reason: refused };
      }
      await callModel(context, deployed, 'Create', properties);
      return undefined;
    },

    async update(context, existing, properties) {
      const oldProperties = existing.properties;
      existing.properties = properties;
      const replacement = resource.replacement?.({ ...existing, properties: oldProperties }, properties);
      if (replacement) {
        replaceResource(context.state, context.stack, { ...existing, properties: oldProperties }, replacement.physicalId, context.phase);
        existing.physicalId = replacement.physicalId;
        existing.attributes = replacement.attributes;
      }
      const refused = refusedApply(() => resource.apply?.(context, existing, oldProperties));
      if (refused !== undefined) {
        existing.properties = oldProperties;
        return refused;
      }
      await callModel(context, existing, 'Update', properties, oldProperties);
      return undefined;
    },

    async delete(context, deployed) {
      resource.remove?.(context, deployed);
      await callModel(context, deployed, 'Delete', deployed.properties);
      return undefined;
    },
  };
}

/**
 * Calls the stand-in for the handler of the resource's type, if the driver was given one
 * (`DriverOptions.customResources`), as CloudFormation would call the real one.
 */
export async function callModel(
  context: ResourceContext, deployed: Deployed, requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>,
  oldProperties?: Record<string, unknown>,
): Promise<void> {
  const model = context.state.options.customResources?.[deployed.type];
  const call = { stackName: context.stack.name, logicalId: deployed.logicalId, requestType, phase: context.phase, properties };
  await model?.(oldProperties ? { ...call, oldProperties } : call);
}

/**
 * Applies a resource, unless its service refuses it (EventBridge's PutTargets, say): then the
 * service's message, for the resource's failure, with nothing applied.
 */
function refusedApply(apply: () => void): string | undefined {
  try {
    apply();
    return undefined;
  } catch (e) {
    if (e instanceof ValidationException) {
      return `Resource handler returned message: "${e.message}"`;
    }
    throw e;
  }
}

/** The ARN of a regional resource of the driver's account. */
export function arn(service: string, resource: string): string {
  return `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
}
