/**
 * CloudFormation's awsQuery wire format (API version 2010-05-15) for the calls the stand-in serves:
 * the DescribeStacks, DescribeStackResource and DescribeStackEvents documents, the ErrorResponse
 * document, and DescribeStackEvents' pages and NextToken.
 */
import { randomUUID } from 'crypto';
import { XMLBuilder } from 'fast-xml-parser';

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** A stack event, as DescribeStackEvents returns it: a resource's status change, or the stack's own. */
export interface StackEvent {
  readonly StackId: string;
  readonly EventId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  /** Empty while a resource is being created and has none yet. */
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Timestamp: Date;
  readonly ResourceStatus: string;
  readonly ResourceStatusReason?: string;
  /** The resolved properties CloudFormation used, as JSON: on CREATE_IN_PROGRESS and UPDATE_IN_PROGRESS. */
  readonly ResourceProperties?: string;
}

/** A stack as DescribeStacks shows it. */
export interface StackView {
  readonly stackId: string;
  readonly name: string;
  readonly status: string;
  /** Set once an update has begun. */
  readonly lastUpdatedTime?: string;
}

/** The ErrorResponse document of a Sender error. */
export function queryErrorXml(code: string, message: string): string {
  return xml({ ErrorResponse: { '@_xmlns': NAMESPACE, 'Error': { Type: 'Sender', Code: code, Message: message }, 'RequestId': randomUUID() } });
}

/** The DescribeStacksResponse document for one stack. */
export function describeStacksXml(stack: StackView): string {
  return xml({
    DescribeStacksResponse: {
      '@_xmlns': NAMESPACE,
      'DescribeStacksResult': {
        Stacks: {
          member: [{
            StackId: stack.stackId,
            StackName: stack.name,
            StackStatus: stack.status,
            CreationTime: new Date(0).toISOString(),
            ...(stack.lastUpdatedTime ? { LastUpdatedTime: stack.lastUpdatedTime } : {}),
          }],
        },
      },
      'ResponseMetadata': { RequestId: randomUUID() },
    },
  });
}

/** The DescribeStackResourceResponse document for one resource of a stack. */
export function describeStackResourceXml(
  stack: StackView, resource: { readonly logicalId: string; readonly physicalId?: string; readonly status?: string },
): string {
  return xml({
    DescribeStackResourceResponse: {
      '@_xmlns': NAMESPACE,
      'DescribeStackResourceResult': {
        StackResourceDetail: {
          StackId: stack.stackId,
          StackName: stack.name,
          LogicalResourceId: resource.logicalId,
          ...(resource.physicalId ? { PhysicalResourceId: resource.physicalId } : {}),
          ResourceStatus: resource.status ?? 'UPDATE_COMPLETE',
          LastUpdatedTimestamp: new Date(0).toISOString(),
        },
      },
      'ResponseMetadata': { RequestId: randomUUID() },
    },
  });
}

/**
 * One page of a stack's events, newest first, and the NextToken of the page after it; undefined
 * for a NextToken that is not this stack's. A NextToken names the first event of the next page, so
 * events added meanwhile do not shift the pages still to come.
 *
 * @param all the stack's events, oldest first
 */
export function eventsPage(
  all: readonly StackEvent[], stackId: string, nextToken: string | null, size: number,
): { page: StackEvent[]; next?: string } | undefined {
  // Positions count from the oldest event: the next page starts at the one before `start`.
  let start = all.length;
  if (nextToken) {
    const parsed = /^(\d+):(.+)$/.exec(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!parsed || parsed[2] !== stackId || Number(parsed[1]) > all.length) {
      return undefined;
    }
    start = Number(parsed[1]);
  }
  const page = all.slice(Math.max(0, start - size), start).reverse();
  const next = start - size > 0 ? Buffer.from(`${start - size}:${stackId}`).toString('base64') : undefined;
  return { page, next };
}

/** The DescribeStackEventsResponse document of a page of events. */
export function describeStackEventsXml(page: readonly StackEvent[], next: string | undefined): string {
  return xml({
    DescribeStackEventsResponse: {
      '@_xmlns': NAMESPACE,
      'DescribeStackEventsResult': {
        StackEvents: {
          member: page.map((e) => ({
            StackId: e.StackId,
            EventId: e.EventId,
            StackName: e.StackName,
            LogicalResourceId: e.LogicalResourceId,
            PhysicalResourceId: e.PhysicalResourceId,
            ResourceType: e.ResourceType,
            Timestamp: e.Timestamp.toISOString(),
            ResourceStatus: e.ResourceStatus,
            ...(e.ResourceStatusReason !== undefined ? { ResourceStatusReason: e.ResourceStatusReason } : {}),
            ...(e.ResourceProperties !== undefined ? { ResourceProperties: e.ResourceProperties } : {}),
          })),
        },
        ...(next ? { NextToken: next } : {}),
      },
      'ResponseMetadata': { RequestId: randomUUID() },
    },
  });
}

function xml(doc: Record<string, unknown>): string {
  return `<?xml version="1.0"?>\n${new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build(doc)}`;
}
