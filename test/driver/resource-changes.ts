/**
 * CloudFormation's part in creating, updating and deleting one resource, for every type alike: the
 * resource's status events (IN_PROGRESS, then COMPLETE or FAILED), its DeletionPolicy and
 * UpdateReplacePolicy, and the change in the step's report. What the change does is the resource
 * type's (`resources/`).
 */
import type { SynthesizedStack, TemplateResource } from './assembly';
import type { DriverState } from './driver-state';
import type { DeployOptions, Phase } from './options';
import { resourceType } from './resources/registry';
import type { DeployContext } from './resources/resource-type';
import { note, resourceEvent } from './stack-events';
import type { Deployed, Removal, StackState } from './stack-state';

/** Where a resource of the stack is created or updated. */
export interface ChangeSite {
  readonly state: DriverState;
  readonly stack: StackState;
  readonly synthesized: SynthesizedStack;
  readonly phase: Phase;
  readonly options: DeployOptions;
}

/** Creates a resource: whether it succeeded. */
export async function createResource(site: ChangeSite, id: string, def: TemplateResource, properties: Record<string, unknown>): Promise<boolean> {
  const { state, stack } = site;
  resourceEvent(state, stack, id, def.Type, 'CREATE_IN_PROGRESS', { properties });
  const failure = await resourceType(def.Type).create(deployContext(site, id, def), properties);
  if (failure !== undefined) {
    resourceEvent(state, stack, id, def.Type, 'CREATE_FAILED', { physicalId: failure.physicalId, reason: failure.reason });
    return false;
  }
  resourceEvent(state, stack, id, def.Type, 'CREATE_COMPLETE', { physicalId: stack.resources.get(id)!.physicalId });
  note(state, stack, id, def.Type, 'create', site.phase);
  return true;
}

/** Updates a resource to new properties (or, in a rollback, back to its old ones): whether it succeeded. */
export async function changeResource(
  site: ChangeSite, id: string, def: TemplateResource, properties: Record<string, unknown>, existing: Deployed,
): Promise<boolean> {
  const { state, stack, phase } = site;
  resourceEvent(state, stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: existing.physicalId, properties });
  const failure = await resourceType(def.Type).update(deployContext(site, id, def), existing, properties);
  if (failure !== undefined) {
    resourceEvent(state, stack, id, def.Type, 'UPDATE_FAILED', { physicalId: existing.physicalId, reason: failure });
    return false;
  }
  resourceEvent(state, stack, id, def.Type, 'UPDATE_COMPLETE', { physicalId: existing.physicalId });
  note(state, stack, id, def.Type, phase === 'rollback' ? 'revert' : 'update', phase);
  return true;
}

/** Deletes a resource of the stack, as its DeletionPolicy says (see `Removal`). */
export async function remove(state: DriverState, stack: StackState, id: string, phase: Phase, how: Removal): Promise<void> {
  await removeResource(state, stack, stack.resources.get(id)!, phase, how);
}

/**
 * Deletes a resource, or leaves it be when its policy retains it (DELETE_SKIPPED: no Delete
 * request, nothing undone). The stack forgets it, unless its logical id now names another (the old
 * resource of a replacement, one whose creation failed).
 */
export async function removeResource(state: DriverState, stack: StackState, deployed: Deployed, phase: Phase, how: Removal): Promise<void> {
  const id = deployed.logicalId;
  const policy = how.replaced ? how.def?.UpdateReplacePolicy : how.def?.DeletionPolicy;
  const retained = policy === 'Retain' ? !(how.createdNow && how.retainExceptOnCreate) : policy === 'RetainExceptOnCreate' && !how.createdNow;
  if (stack.resources.get(id) === deployed) {
    stack.resources.delete(id);
  }
  if (retained) {
    resourceEvent(state, stack, id, deployed.type, 'DELETE_SKIPPED', { physicalId: deployed.physicalId });
    note(state, stack, id, deployed.type, 'skip', phase);
    return;
  }
  resourceEvent(state, stack, id, deployed.type, 'DELETE_IN_PROGRESS', { physicalId: deployed.physicalId });
  const failed = await resourceType(deployed.type).delete({ state, stack, phase }, deployed, how);
  resourceEvent(state, stack, id, deployed.type, failed === undefined ? 'DELETE_COMPLETE' : 'DELETE_FAILED', { physicalId: deployed.physicalId, reason: failed });
  note(state, stack, id, deployed.type, 'delete', phase);
}

function deployContext(site: ChangeSite, logicalId: string, def: TemplateResource): DeployContext {
  return { ...site, logicalId, type: def.Type };
}
