/**
 * CloudFormation's create and update of a stack: the forward pass (each resource whose properties
 * changed created or updated, dependencies first, until one fails), then the cleanup after success,
 * the stop at CREATE_FAILED or UPDATE_FAILED with rollback disabled, or the rollback (`rollback.ts`).
 */
import type { SynthesizedStack, Template } from './assembly';
import { deliverForwardAgain, redeliver } from './delivery';
import type { DriverState } from './driver-state';
import { resolve } from './intrinsics';
import type { DeployOptions } from './options';
import { changeResource, createResource, remove, removeResource } from './resource-changes';
import { rollBack, rollBackCreation } from './rollback';
import { INJECTED_FAILURE, note, resourceEvent, setStatus } from './stack-events';
import type { StackState, Transition } from './stack-state';
import { definition, deploymentOrder } from './stack-state';
import { effective, parameterValues, resolveContext } from './template-values';

/** Creates or updates a stack to the synthesized template, and rolls it back if the update fails. */
export async function update(state: DriverState, stack: StackState, synthesized: SynthesizedStack, options: DeployOptions): Promise<void> {
  // From UPDATE_FAILED or CREATE_FAILED, an update carries on from the failed one.
  const resuming = stack.status === 'UPDATE_FAILED' || stack.status === 'CREATE_FAILED';
  const creating = stack.template === undefined && !resuming;
  const previous = state.lastSent;
  const parameters = { ...parameterValues(state, synthesized.template), ...options.parameters };
  const effectiveStack = effective(stack, synthesized, parameters);
  if (!creating && !resuming && JSON.stringify([stack.template, stack.parameters]) === JSON.stringify([effectiveStack.template, parameters])) {
    // The same template and parameter values: "No updates are to be performed", and no status change.
    stack.synthesized = effectiveStack;
    return;
  }
  state.forwardSent = [];
  setStatus(state, stack, creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS', 'User Initiated');
  const failure = await forward(state, stack, effectiveStack, parameters, options);
  if (failure === undefined) {
    if (creating) {
      stack.transition = undefined;
      setStatus(state, stack, 'CREATE_COMPLETE');
    } else {
      await cleanUp(state, stack);
    }
    return;
  }
  const reason = `The following resource(s) failed to ${creating ? 'create' : 'update'}: [${failure}]. `;
  if (options.disableRollback) {
    // What was done stays as it is, until a rollback, another deploy, or the stack's deletion.
    setStatus(state, stack, creating ? 'CREATE_FAILED' : 'UPDATE_FAILED', reason);
    return;
  }
  if (stack.transition!.oldTemplate === undefined) {
    await rollBackCreation(state, stack, reason);
    return;
  }
  setStatus(state, stack, 'UPDATE_ROLLBACK_IN_PROGRESS', reason);
  if (options.lateDuplicates) {
    deliverForwardAgain(state);
  }
  if (options.staleDuplicate && previous) {
    redeliver(state, previous, stack.status);
  }
  await rollBack(state, stack, { fail: options.failRollback ?? [], skip: [], stepMs: options.rollbackStepMs });
}

/**
 * The forward pass of an update: every resource whose properties changed is created or updated,
 * dependencies first, until one fails. Returns the one that failed.
 */
export async function forward(
  state: DriverState, stack: StackState, given: SynthesizedStack, parameters: Record<string, string>, options: DeployOptions,
): Promise<string | undefined> {
  // A nested stack's template comes as synthesized: what its parameters make of its conditions.
  const synthesized = effective(stack, given, parameters);
  const template = synthesized.template;
  // An update that failed without rolling back: this one carries on from it, back to the same stable state.
  const carried = stack.transition;
  const transition: Transition = {
    creating: carried?.creating ?? stack.template === undefined,
    oldTemplate: carried ? carried.oldTemplate : stack.template,
    oldSynthesized: carried ? carried.oldSynthesized : stack.synthesized,
    oldParameters: carried ? carried.oldParameters : stack.parameters,
    template,
    synthesized,
    earlier: carried ? [carried.template, ...carried.earlier] : [],
    before: carried?.before ?? new Map([...stack.resources].map(([id, r]) => [id, { ...r, attributes: { ...r.attributes } }])),
    touched: [...carried?.touched ?? []],
    created: [...carried?.created ?? []],
    replaced: [...carried?.replaced ?? []],
    failedCreates: [...carried?.failedCreates ?? []],
  };
  const track = (list: string[], id: string) => {
    if (!transition.created.includes(id) && !list.includes(id)) {
      list.push(id);
    }
  };
  stack.transition = transition;
  stack.parameters = parameters;
  const site = { state, stack, synthesized, phase: 'deploy' as const, options };
  for (const id of deploymentOrder(template)) {
    const def = template.Resources[id];
    if (def.Type === 'AWS::CDK::Metadata') {
      continue;
    }
    const properties = resolve(def.Properties ?? {}, resolveContext(state, stack)) as Record<string, unknown>;
    const existing = stack.resources.get(id);
    const changed = !existing || existing.type !== def.Type || JSON.stringify(existing.properties) !== JSON.stringify(properties);
    if (!changed) {
      continue;
    }
    if (options.fail?.includes(id) && !stack.parent) {
      const verb = existing ? 'UPDATE' : 'CREATE';
      resourceEvent(state, stack, id, def.Type, `${verb}_IN_PROGRESS`, { physicalId: existing?.physicalId, properties });
      resourceEvent(state, stack, id, def.Type, `${verb}_FAILED`, { physicalId: existing?.physicalId, reason: INJECTED_FAILURE });
      note(state, stack, id, def.Type, 'fail', 'deploy');
      return id;
    }
    const ok = existing
      ? await changeResource(site, id, def, properties, existing)
      : await createResource(site, id, def, properties);
    if (!ok) {
      if (existing && !options.disableRollback) {
        // A resource whose update failed is rolled back too: its Update back names what was tried.
        existing.properties = properties;
        track(transition.touched, id);
      }
      return id;
    }
    track(existing ? transition.touched : transition.created, id);
  }
  stack.template = template;
  stack.synthesized = synthesized;
  return undefined;
}

/** The cleanup after a successful update: removed resources deleted, dependents first; nested stacks' cleanup too. */
async function cleanUp(state: DriverState, stack: StackState): Promise<void> {
  const t = stack.transition!;
  setStatus(state, stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
  for (const child of state.children(stack, t.touched)) {
    if (child.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') {
      await cleanUp(state, child);
    }
  }
  // What failed to be created (nothing depends on it), then removed resources and the old resources of replacements, dependents first.
  for (const failed of [...t.failedCreates].reverse()) {
    await removeResource(state, stack, failed, 'cleanup', { def: definition(t, failed.logicalId) });
  }
  const resources = [t.oldTemplate?.Resources, ...[...t.earlier].reverse().map((e) => e.Resources), t.template.Resources];
  const merged: Template = { Resources: Object.assign({}, ...resources) };
  for (const id of deploymentOrder(merged).reverse()) {
    for (const { old } of t.replaced.filter((r) => r.phase === 'deploy' && r.old.logicalId === id)) {
      await removeResource(state, stack, old, 'cleanup', { def: t.template.Resources[id], replaced: true });
    }
    if (!(id in t.template.Resources) && stack.resources.has(id)) {
      await remove(state, stack, id, 'cleanup', { def: definition(t, id) });
    }
  }
  stack.transition = undefined;
  setStatus(state, stack, 'UPDATE_COMPLETE');
}
