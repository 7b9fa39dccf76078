/**
 * A resource replaced by an update: CloudFormation creates the new one and keeps the old one until
 * the cleanup, which deletes it as its UpdateReplacePolicy says.
 */
import type { DriverState } from './driver-state';
import type { Phase } from './options';
import { resourceEvent } from './stack-events';
import type { Deployed, StackState } from './stack-state';

/**
 * An update that gave a resource a new physical id replaced it: CloudFormation keeps the old one
 * until the cleanup, which deletes it (as its UpdateReplacePolicy says).
 */
export function replaceResource(state: DriverState, stack: StackState, existing: Deployed, physicalId: string, phase: Phase): void {
  stack.transition?.replaced.push({ old: { ...existing, attributes: { ...existing.attributes } }, phase });
  existing.physicalId = physicalId;
  resourceEvent(state, stack, existing.logicalId, existing.type, 'UPDATE_IN_PROGRESS', {
    physicalId, reason: 'Requested update requires the creation of a new physical resource; hence creating one.',
  });
}
