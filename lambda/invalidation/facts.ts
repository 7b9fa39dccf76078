/**
 * Deciding what to do about a CloudFormation request, with what the stack says about it gathered
 * first (decide.ts, `Facts`): whether the request is a late duplicate (DescribeStackResource), and
 * the stack's status (DescribeStacks), which tells a rollback from an update.
 */
import { DELETE_READ_LIMIT_MS, RESOURCE_STATUS_LIMIT_MS } from './budgets';
import type { Decision, Facts } from './decide';
import { decide, needsLateCheck, needsStackStatus } from './decide';
import { describeError, errorCode, retryableOrDenied, serviceError } from './errors';
import type { Plan } from './plan';
import type { CloudFormationRequest } from './protocol';
import type { RequestProgress } from './request-purge';
import { retry, within } from './retry';
import type { Invocation, ResourceState } from './runtime';
import { callSignal } from './runtime';

/**
 * What to do about the request: what an earlier invocation decided, when one did, or else what
 * decide.ts makes of the facts gathered now; `handoff` when this invocation ran out of time before
 * the stack could be read (a fresh one decides, within the same budget). `startedAt` is when the
 * request's budget started.
 */
export async function decideRequest(
  invocation: Invocation, event: CloudFormationRequest, plan: Plan, progress: RequestProgress | undefined, startedAt: number,
): Promise<Decision | { kind: 'handoff' }> {
  if (progress?.decided && plan.action === 'invalidate') {
    // A continuation: the decision was made by an earlier invocation.
    return { kind: 'invalidate', job: plan.job, settings: plan.settings, cleanup: progress.cleanup };
  }
  const facts = await gatherFacts(invocation, event, plan, startedAt);
  return 'handoff' in facts ? { kind: 'handoff' } : decide(event, plan, facts);
}

/**
 * What the decision needs to know of the stack, read only when the request needs it; `handoff`
 * when this invocation ran out of time before the stack could be read. `startedAt` is when the
 * request's budget started.
 */
async function gatherFacts(
  invocation: Invocation, event: CloudFormationRequest, plan: Plan, startedAt: number,
): Promise<Facts | { handoff: true }> {
  const late = needsLateCheck(event, plan) && await isLate(invocation, event);
  const stack = !late && needsStackStatus(event, plan) ? await readStack(invocation, event, plan, startedAt) : {};
  return 'handoff' in stack ? stack : { late, ...stack };
}

/**
 * Whether this request is a late duplicate: CloudFormation keeps a resource `*_IN_PROGRESS` while
 * it waits for the answer, so a request for a resource in any other state (or gone) was answered
 * by an earlier delivery; so was one naming another physical id than the resource now has (an
 * earlier resource of the same logical id, replaced or deleted since). When that cannot be read,
 * the request is live: its CallerReference still keeps a second delivery from creating anything new.
 */
async function isLate(invocation: Invocation, event: CloudFormationRequest): Promise<boolean> {
  const { rt } = invocation;
  let resource: ResourceState | undefined;
  try {
    const until = rt.now() + RESOURCE_STATUS_LIMIT_MS;
    resource = await rt.resourceStatus(event.StackId, event.LogicalResourceId, callSignal(invocation, until));
  } catch (e) {
    rt.log('could not read the resource status', { error: describeError(e) });
    return false;
  }
  const otherResource = resource?.physicalId !== undefined && resource.physicalId !== event.PhysicalResourceId;
  const late = resource?.status === undefined || !resource.status.endsWith('_IN_PROGRESS') || otherResource;
  if (late) {
    rt.log('a late duplicate: the resource is no longer being changed', { resourceStatus: resource?.status ?? 'gone', otherResource });
  }
  return late;
}

/**
 * The stack's status, read again after a pause while the read fails for a reason that may pass,
 * within what CloudFormation waits for the answer (a minute for a Delete); the last error when it
 * cannot be read.
 */
async function readStack(
  invocation: Invocation, event: CloudFormationRequest, plan: Plan, startedAt: number,
): Promise<{ stackStatus?: string; stackStatusError?: string } | { handoff: true }> {
  const { rt } = invocation;
  const budget = plan.action === 'invalidate' ? plan.settings.timeoutSeconds * 1000 : 0;
  const limit = startedAt + (event.RequestType === 'Delete' ? Math.min(budget, DELETE_READ_LIMIT_MS) : budget);
  // A call cut off at the deadline says nothing new: what CloudFormation said before is what the reason reports.
  let said: unknown;
  const read = await retry(async () => (await rt.stackStatus(event.StackId, callSignal(invocation, limit))).status, {
    pacing: within(invocation, limit),
    retryable: retryableOrDenied(rt),
    failed: (e) => {
      rt.log('could not read the stack status', { error: describeError(e) });
      said = errorCode(e) === 'AbortError' ? said ?? e : e;
    },
  });
  if (read.kind === 'ok') {
    return { stackStatus: read.value };
  }
  return read.kind === 'handoff' ? { handoff: true } : { stackStatusError: serviceError('CloudFormation DescribeStacks', said) };
}
