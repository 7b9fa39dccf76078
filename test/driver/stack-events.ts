/**
 * What CloudFormation records as a stack is deployed: the stack's status changes (each sent to
 * EventBridge as a stack status event, docs/cloudformation.md, "Stack status events"), every
 * resource's status change for DescribeStackEvents, and the changes for the step's report.
 */
import type { DriverState } from './driver-state';
import type { Phase } from './options';
import type { ResourceChange } from './reports';
import type { StackState } from './stack-state';
import { NESTED_STACK_TYPE } from './stack-state';
import { publishExports } from './template-values';
import type { DeliveryOptions } from '../emulator/eventbridge';
import { stackStatusChangeEvent } from '../emulator/eventbridge-events';

/** The ResourceStatusReason of a resource the test makes fail. */
export const INJECTED_FAILURE = 'Resource handler returned message: "Failure injected by the test"';

/** Sets a stack's status, and sends EventBridge the stack status event CloudFormation sends. */
export function setStatus(state: DriverState, stack: StackState, status: string, reason = ''): void {
  stack.status = status;
  const reachedAt = state.clock();
  // The time of day, never going back; updates begin at least a second apart, so each has its own LastUpdatedTime.
  state.lastStatusTime = Math.max(Date.now(), state.lastStatusTime + (status === 'UPDATE_IN_PROGRESS' ? 1000 : 0));
  const time = new Date(state.lastStatusTime);
  state.cloud.cloudformation.setStackStatus(stack.id, stack.name, status, time);
  if (status.endsWith('_COMPLETE') && stack.template) {
    publishExports(state, stack);
  }
  const eventId = state.uuid();
  state.current?.events.push({ eventId, stackName: stack.name, stackId: stack.id, status, reachedAt });
  state.cloud.cloudformation.addStackEvent({
    StackId: stack.id,
    EventId: eventId,
    StackName: stack.name,
    LogicalResourceId: stack.name,
    PhysicalResourceId: stack.id,
    ResourceType: NESTED_STACK_TYPE,
    Timestamp: time,
    ResourceStatus: status,
    ...(reason ? { ResourceStatusReason: reason } : {}),
  });
  const event = stackStatusChangeEvent({ id: eventId, stackId: stack.id, status, reason, time, stackIdForm: state.cloud.stackIdForm });
  state.cloud.eventbridge.putEvent(event, deliveryOptions(state));
}

/** How the next event is delivered: as the step asks, else now and then twice or late, as the driver's faults say. */
function deliveryOptions(state: DriverState): DeliveryOptions {
  const asked = state.current?.delivery ?? {};
  const faults = state.options.eventFaults ?? {};
  let { twice, late } = asked;
  if (twice === undefined && (faults.duplicateRate ?? 0) > 0 && state.prng.next() < faults.duplicateRate!) {
    twice = true;
  }
  if (late === undefined && (faults.lateRate ?? 0) > 0 && state.prng.next() < faults.lateRate!) {
    late = state.prng.next() < 0.5 ? 'next-step' : faults.lateMs ?? 300;
  }
  return { twice, late };
}

/**
 * Records a resource's status change as a stack event: its properties as CloudFormation resolved
 * them on CREATE_IN_PROGRESS and UPDATE_IN_PROGRESS, the reason when it failed or was skipped.
 */
export function resourceEvent(
  state: DriverState, stack: StackState, logicalId: string, type: string, status: string,
  extra: { physicalId?: string; properties?: Record<string, unknown>; reason?: string } = {},
): void {
  // Strictly after the last event: each has a time of its own, and so an id of its own.
  state.lastStatusTime = Math.max(Date.now(), state.lastStatusTime + 1);
  const time = new Date(state.lastStatusTime);
  state.cloud.cloudformation.addStackEvent({
    StackId: stack.id,
    EventId: `${logicalId}-${status}-${time.toISOString()}`,
    StackName: stack.name,
    LogicalResourceId: logicalId,
    PhysicalResourceId: extra.physicalId ?? '',
    ResourceType: type,
    Timestamp: time,
    ResourceStatus: status,
    ...(extra.reason !== undefined ? { ResourceStatusReason: extra.reason } : {}),
    ...(extra.properties !== undefined ? { ResourceProperties: JSON.stringify(extra.properties) } : {}),
  });
}

/** Records a resource's change in the step's report. */
export function note(state: DriverState, stack: StackState, logicalId: string, type: string, action: ResourceChange['action'], phase: Phase): void {
  state.current?.changes.push({ logicalId, type, action, phase, finishedAt: state.clock(), stackName: stack.name });
}
