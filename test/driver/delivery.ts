/**
 * How CloudFormation delivers a custom resource's requests to its handler in the Lambda stand-in:
 * an asynchronous invocation with a presigned ResponseURL, the resource shown in progress for
 * DescribeStackResource while CloudFormation waits up to the resource's ServiceTimeout for the
 * answer; and the same request delivered again, as Lambda may.
 */
import type { DriverState, SentRequest } from './driver-state';
import type { DeployOptions, Phase } from './options';
import type { RequestRecord } from './reports';
import type { StackState } from './stack-state';

/** What a request is about: the resource, its properties (and old ones for an Update) and its physical id. */
export type RequestSubject = Pick<RequestRecord, 'logicalId' | 'resourceType' | 'requestType' | 'properties' | 'oldProperties' | 'physicalId'>;

/** The token of a presigned ResponseURL of the CloudFormation stand-in. */
export function responseToken(url: string): string | undefined {
  return /cloudformation-response\/([^?]+)/.exec(url)?.[1];
}

/** Sends a custom resource a request, as CloudFormation does, and waits for its answer (or the ServiceTimeout). */
export async function sendRequest(
  state: DriverState, stack: StackState, subject: RequestSubject, phase: Phase, options: DeployOptions,
): Promise<RequestRecord> {
  const { logicalId, resourceType, requestType, properties, oldProperties, physicalId } = subject;
  const serviceToken = String(properties.ServiceToken);
  const functionName = serviceToken.split(':').pop()!;
  const requestId = state.uuid();
  const stackStatus = stack.status;
  const sentAt = state.clock();
  const record: RequestRecord = {
    logicalId,
    resourceType,
    requestType,
    requestId,
    phase,
    stackStatus,
    sentAt,
    properties,
    oldProperties,
    physicalId,
  };
  state.current!.requests.push(record);
  const age = options.requestAgeMs ?? 0;
  const { url, token } = state.cloud.cloudformation.newResponseUrl(Date.now() - age);
  state.tokens.set(record, token);
  const event = {
    RequestType: requestType,
    ServiceToken: serviceToken,
    ResponseURL: url,
    StackId: stack.id,
    RequestId: record.requestId,
    LogicalResourceId: logicalId,
    ResourceType: resourceType,
    ResourceProperties: properties,
    ...(oldProperties ? { OldResourceProperties: oldProperties } : {}),
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
  };
  state.lastSent = { functionName, event, record };
  if (phase === 'deploy') {
    state.forwardSent.push(state.lastSent);
  }
  const statusKey = `${stack.id} ${logicalId}`;
  // CloudFormation shows the resource in progress while it waits for the answer.
  state.statuses.set(statusKey, `${requestType.toUpperCase()}_IN_PROGRESS`);
  state.cloud.lambda.invokeAsync(functionName, event);
  if (options.duplicateDelivery) {
    state.cloud.lambda.invokeAsync(functionName, event);
  }
  const serviceTimeoutMs = Number(properties.ServiceTimeout ?? 3600) * 1000;
  try {
    const waitMs = Math.max(0, Math.min(serviceTimeoutMs - age, state.options.answerTimeoutMs ?? 120_000));
    const received = await state.cloud.cloudformation.awaitAnswer(token, waitMs);
    record.answer = received.answer;
    record.answeredAt = state.clock();
  } catch {
    record.unanswered = true;
  }
  if (requestType === 'Delete') {
    state.statuses.delete(statusKey);
  } else {
    state.statuses.set(statusKey, `${requestType.toUpperCase()}_${record.answer?.Status === 'SUCCESS' ? 'COMPLETE' : 'FAILED'}`);
  }
  return record;
}

/** Delivers a request once more, as Lambda may long after it was answered; its answer is collected at the end of the step. */
export function redeliver(state: DriverState, sent: SentRequest, stackStatus: string): void {
  if (!state.cloud.lambda.has(sent.functionName)) {
    // The function went with an earlier stack: Lambda has nothing to run it again.
    return;
  }
  const record: RequestRecord = { ...sent.record, phase: 'redelivery', stackStatus, sentAt: state.clock() };
  delete record.answer;
  delete record.answeredAt;
  delete record.unanswered;
  state.current!.requests.push(record);
  const token = responseToken(String(sent.event.ResponseURL))!;
  state.tokens.set(record, token);
  state.current!.redeliveries.push({ record, token, before: state.cloud.cloudformation.answers.get(token)?.length ?? 0 });
  state.cloud.lambda.invokeAsync(sent.functionName, sent.event);
}

/** Delivers the requests the forward pass of the failed deploy sent once more, as late duplicates from Lambda. */
export function deliverForwardAgain(state: DriverState): void {
  for (const sent of state.forwardSent) {
    state.cloud.lambda.invokeAsync(sent.functionName, sent.event);
  }
}

/** The ResourceStatusReason CloudFormation gives a custom resource whose request failed or went unanswered. */
export function failureReason(record: RequestRecord): string {
  if (record.answer) {
    return `Received response status [${record.answer.Status}] from custom resource. Message returned: ${record.answer.Reason ?? ''} (RequestId: ${record.requestId})`;
  }
  return `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${record.requestId}].`;
}
