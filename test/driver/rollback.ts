/**
 * CloudFormation's rollbacks: a failed update's (what it changed put back, in the rollback order,
 * then what it created deleted), stopping at UPDATE_ROLLBACK_FAILED when a resource cannot be put
 * back, until ContinueUpdateRollback; and a failed creation's (everything deleted, ROLLBACK_COMPLETE).
 */
import type { DriverState } from './driver-state';
import type { Phase } from './options';
import { changeResource, remove, removeResource } from './resource-changes';
import { INJECTED_FAILURE, note, resourceEvent, setStatus } from './stack-events';
import type { Removal, StackState, Transition } from './stack-state';
import { definition, NESTED_STACK_TYPE } from './stack-state';

/** How a rollback goes: what fails to roll back, what ContinueUpdateRollback skips, how long each resource takes. */
export interface RollbackHow {
  readonly fail: readonly string[];
  readonly skip: readonly string[];
  readonly stepMs?: number;
}

/**
 * Rolls an update back: puts back what it changed, in the rollback order, from where an earlier
 * attempt stopped; stops at UPDATE_ROLLBACK_FAILED when a resource cannot be put back (no
 * cleanup then); else deletes what the update created and ends UPDATE_ROLLBACK_COMPLETE. A nested
 * stack waits in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS for its parent's cleanup.
 */
export async function rollBack(state: DriverState, stack: StackState, how: RollbackHow): Promise<boolean> {
  const t = stack.transition!;
  const order = (state.options.rollbackOrder ?? 'dependencies-first') === 'dependencies-first' ? t.touched : [...t.touched].reverse();
  t.remaining ??= [...order];
  t.failedRollback = undefined;
  while (t.remaining.length > 0) {
    const id = t.remaining[0];
    const current = stack.resources.get(id)!;
    if (how.skip.includes(id)) {
      t.remaining.shift();
      // ContinueUpdateRollback's ResourcesToSkip: taken as rolled back, left as it is.
      resourceEvent(state, stack, id, current.type, 'UPDATE_COMPLETE', { physicalId: current.physicalId, reason: 'Resource skipped during UpdateRollback' });
      note(state, stack, id, current.type, 'skip', 'rollback');
      continue;
    }
    if (how.stepMs) {
      await new Promise((wake) => setTimeout(wake, how.stepMs));
    }
    const def = t.oldTemplate!.Resources[id];
    const old = t.before.get(id)!;
    let ok: boolean;
    if (how.fail.includes(id)) {
      resourceEvent(state, stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: current.physicalId, properties: old.properties });
      resourceEvent(state, stack, id, def.Type, 'UPDATE_FAILED', { physicalId: current.physicalId, reason: INJECTED_FAILURE });
      note(state, stack, id, def.Type, 'fail', 'rollback');
      ok = false;
    } else if (def.Type === NESTED_STACK_TYPE) {
      resourceEvent(state, stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: current.physicalId, properties: old.properties });
      ok = await rollBackNested(state, stack, id, how.skip);
      if (ok) {
        current.properties = old.properties;
        current.attributes = { ...old.attributes };
        resourceEvent(state, stack, id, def.Type, 'UPDATE_COMPLETE', { physicalId: current.physicalId });
        note(state, stack, id, def.Type, 'revert', 'rollback');
      } else {
        resourceEvent(state, stack, id, def.Type, 'UPDATE_FAILED', { physicalId: current.physicalId, reason: `Embedded stack ${current.physicalId} was not successfully rolled back` });
      }
    } else {
      ok = await changeResource({ state, stack, synthesized: t.oldSynthesized!, phase: 'rollback', options: {} }, id, def, old.properties, current);
    }
    if (!ok) {
      t.failedRollback = id;
      setStatus(state, stack, 'UPDATE_ROLLBACK_FAILED', `The following resource(s) failed to update: [${id}]. `);
      return false;
    }
    t.remaining.shift();
  }
  setStatus(state, stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
  if (!stack.parent) {
    await finishRollback(state, stack);
  }
  return true;
}

/** The cleanup of a rollback: what the failed update created is deleted, dependents first. */
async function finishRollback(state: DriverState, stack: StackState): Promise<void> {
  const t = stack.transition!;
  for (const child of state.children(stack, t.touched)) {
    if (child.status === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS') {
      await finishRollback(state, child);
    }
  }
  // What the rollback replaced (the resources the update had put in their place), then what the update created.
  for (const { old } of [...t.replaced].reverse().filter((r) => r.phase === 'rollback')) {
    await removeResource(state, stack, old, 'rollback', { def: definition(t, old.logicalId), replaced: true, createdNow: true });
  }
  await removeCreated(state, stack, t, 'rollback');
  stack.template = t.oldTemplate;
  stack.synthesized = t.oldSynthesized;
  stack.parameters = t.oldParameters;
  stack.transition = undefined;
  setStatus(state, stack, 'UPDATE_ROLLBACK_COMPLETE');
}

/** A nested stack's part of its parent's rollback: its own changes put back, its cleanup left to the parent's. */
async function rollBackNested(state: DriverState, parent: StackState, logicalId: string, skip: readonly string[]): Promise<boolean> {
  const child = state.nestedStack(parent.resources.get(logicalId)!.physicalId);
  if (!child?.transition) {
    return true;
  }
  if (child.status !== 'UPDATE_ROLLBACK_IN_PROGRESS') {
    setStatus(state, child, 'UPDATE_ROLLBACK_IN_PROGRESS', child.status === 'UPDATE_ROLLBACK_FAILED' ? 'User Initiated' : 'Rollback requested by the parent stack');
  }
  return rollBack(state, child, { fail: [], skip });
}

/**
 * The rollback of a stack never created whole (a failed creation, or RollbackStack with no stable
 * state): everything it created deleted, dependents first, a custom resource whose Create failed
 * included; ROLLBACK_COMPLETE.
 */
export async function rollBackCreation(state: DriverState, stack: StackState, reason: string): Promise<void> {
  const t = stack.transition!;
  setStatus(state, stack, 'ROLLBACK_IN_PROGRESS', reason);
  await removeCreated(state, stack, t, 'rollback');
  stack.transition = undefined;
  stack.template = undefined;
  setStatus(state, stack, 'ROLLBACK_COMPLETE');
}

/** What the failed operations created, deleted in reverse order: the ones whose creation failed (the last tried) first. */
async function removeCreated(state: DriverState, stack: StackState, t: Transition, phase: Phase): Promise<void> {
  const how = (id: string): Removal => ({ def: definition(t, id), createdNow: true, retainExceptOnCreate: t.retainExceptOnCreate });
  for (const failed of [...t.failedCreates].reverse()) {
    await removeResource(state, stack, failed, phase, how(failed.logicalId));
  }
  for (const id of [...t.created].reverse()) {
    if (stack.resources.has(id)) {
      await remove(state, stack, id, phase, how(id));
    }
  }
}

/** The logical ids of resources that failed to roll back, the nested stacks' included. */
export function failedRollbacks(state: DriverState, stack: StackState): string[] {
  const t = stack.transition;
  const own = t?.failedRollback ? [t.failedRollback] : [];
  return [...own, ...state.children(stack, t?.touched ?? []).flatMap((c) => failedRollbacks(state, c))];
}
