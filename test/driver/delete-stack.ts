/** CloudFormation's deletion of a whole stack: every resource, dependents first, as its DeletionPolicy says. */
import type { Template } from './assembly';
import type { DriverState } from './driver-state';
import type { Phase } from './options';
import { remove, removeResource } from './resource-changes';
import { setStatus } from './stack-events';
import type { StackState } from './stack-state';
import { deploymentOrder } from './stack-state';

/**
 * Deletes a whole stack, dependents first: the resources of a failed update not rolled back
 * included, each as the newest template that has it says (DeletionPolicy).
 */
export async function deleteStack(state: DriverState, stack: StackState, phase: Phase, createdNow = false): Promise<void> {
  setStatus(state, stack, 'DELETE_IN_PROGRESS', 'User Initiated');
  const t = stack.transition;
  const templates = [t?.template, ...t?.earlier ?? [], stack.template].filter((x): x is Template => x !== undefined);
  const merged: Template = { Resources: Object.assign({}, ...[...templates].reverse().map((x) => x.Resources)) };
  const order = deploymentOrder(merged).reverse();
  const def = (id: string) => templates.find((x) => id in x.Resources)?.Resources[id];
  // What failed to be created first: nothing depends on it, and it needs what it refers to, its handler.
  for (const failed of [...t?.failedCreates ?? []].reverse()) {
    await removeResource(state, stack, failed, phase, { def: def(failed.logicalId), createdNow });
  }
  for (const id of [...order, ...stack.resources.keys()]) {
    if (stack.resources.has(id)) {
      await remove(state, stack, id, phase, { def: def(id), createdNow });
    }
  }
  stack.transition = undefined;
  stack.template = undefined;
  setStatus(state, stack, 'DELETE_COMPLETE');
}
