/**
 * The CloudFormation calls of the handler. Bundled apart and loaded on first use (index.ts): a
 * Create never reads the stack, and does not pay for loading this client.
 */
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { requestHandler } from './request-handler';
import { errorCode } from '../errors';
import type { ResourceState, StackEventsPage, StackState } from '../runtime';

const client = new CloudFormationClient({ requestHandler });

/** The stack's status; throws when it cannot be read. */
export async function stackStatus(stackId: string, signal: AbortSignal): Promise<StackState> {
  const out = await client.send(new DescribeStacksCommand({ StackName: stackId }), { abortSignal: signal });
  const stack = out.Stacks?.[0];
  if (!stack?.StackStatus) {
    throw new Error(`DescribeStacks gave no status for stack ${stackId}`);
  }
  return { status: stack.StackStatus, lastUpdatedTime: stack.LastUpdatedTime?.toISOString() };
}

/** A resource's status and physical id, undefined when the stack has no such resource; throws when it cannot be read. */
export async function resourceStatus(stackId: string, logicalId: string, signal: AbortSignal): Promise<ResourceState | undefined> {
  try {
    const out = await client.send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId }), { abortSignal: signal });
    const detail = out.StackResourceDetail;
    return detail ? { status: detail.ResourceStatus, physicalId: detail.PhysicalResourceId || undefined } : undefined;
  } catch (e) {
    if (errorCode(e) === 'ValidationError' && /does not exist/.test(String((e as Error).message))) {
      return undefined;
    }
    throw e;
  }
}

/** A page of the stack's events, newest first; throws when it cannot be read. */
export async function stackEvents(stackId: string, nextToken: string | undefined, signal: AbortSignal): Promise<StackEventsPage> {
  const out = await client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: nextToken }), { abortSignal: signal });
  return {
    events: (out.StackEvents ?? []).map((e) => ({
      logicalId: e.LogicalResourceId ?? '',
      resourceType: e.ResourceType ?? '',
      status: e.ResourceStatus ?? '',
      timestamp: e.Timestamp?.getTime() ?? 0,
      properties: e.ResourceProperties,
    })),
    nextToken: out.NextToken || undefined,
  };
}
