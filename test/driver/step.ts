/**
 * One step of the lifecycle driver (a deploy, a rollback, a deletion, a redelivery) from start to
 * report: deliveries held back by an earlier step released, the operation run, everything it set
 * off (purges, hand-overs, late deliveries) waited for, then what it did gathered into a report.
 */
import { responseToken } from './delivery';
import type { DriverState } from './driver-state';
import type { EventDelivery, StepReport } from './reports';
import type { StackState } from './stack-state';
import type { DeliveryOptions, DeliveryRecord } from '../emulator/eventbridge';

/** Runs an operation on a stack as a step, and reports what it did. */
export async function runStep(
  state: DriverState, stack: StackState, delivery: DeliveryOptions | undefined, body: () => Promise<void>,
): Promise<StepReport> {
  const cloud = state.cloud;
  const eventbridge = cloud.eventbridge;
  const firstRequest = cloud.cloudfront.requests.length;
  const firstDelivery = eventbridge.deliveries.length;
  state.current = { requests: [], changes: [], content: [], events: [], redeliveries: [], delivery: delivery ?? {} };
  // Deliveries held back by an earlier step arrive now that this one has begun.
  eventbridge.releaseHeld();
  await body();
  // Purges after a rollback, hand-overs and late deliveries finish after the stack settles.
  await settle(state);
  const current = state.current;
  const deliveries = new Map<string, number>();
  for (const invocation of cloud.lambda.invocations) {
    const url = invocation.source === 'event' ? (invocation.payload as { ResponseURL?: unknown })?.ResponseURL : undefined;
    const token = typeof url === 'string' ? responseToken(url) : undefined;
    if (token) {
      deliveries.set(token, (deliveries.get(token) ?? 0) + 1);
    }
  }
  for (const r of current.requests) {
    const token = state.tokens.get(r) ?? '';
    r.answers = (cloud.cloudformation.answers.get(token) ?? []).map((a) => a.answer);
    r.deliveries = deliveries.get(token) ?? 0;
  }
  for (const { record, token, before } of current.redeliveries) {
    const answers = cloud.cloudformation.answers.get(token) ?? [];
    record.answer = answers.length > before ? answers[answers.length - 1].answer : undefined;
    record.unanswered = record.answer === undefined;
  }
  const created = new Set(cloud.cloudfront.requests.slice(firstRequest).map((r) => r.created).filter((c): c is string => !!c));
  const report: StepReport = {
    stackName: stack.name,
    stackStatus: stack.status,
    changes: current.changes,
    requests: current.requests,
    content: current.content,
    invalidations: cloud.cloudfront.invalidations().filter((i) => created.has(i.id)),
    events: current.events,
    deliveries: eventDeliveries(state, eventbridge.deliveries.slice(firstDelivery)),
    heldDeliveries: eventbridge.heldCount,
    rollbackPending: [...state.stacks.values()].some((s) => ['UPDATE_ROLLBACK_FAILED', 'UPDATE_FAILED', 'CREATE_FAILED'].includes(s.status)),
  };
  state.current = undefined;
  return report;
}

/** Waits until no late delivery is due and no invocation runs, one feeding the other. */
async function settle(state: DriverState): Promise<void> {
  do {
    await state.cloud.eventbridge.idle();
    await state.cloud.lambda.idle();
  } while (state.cloud.eventbridge.dueCount > 0);
}

/** What Lambda made of each delivery: whether an invocation of it ran to the end. */
function eventDeliveries(state: DriverState, records: readonly DeliveryRecord[]): EventDelivery[] {
  const lambda = state.cloud.lambda;
  const out = records.map((d) => {
    const runs = lambda.invocations.filter((i) => i.payload === d.payload);
    const key = `${d.eventId} ${d.targetArn}`;
    return {
      ...d,
      handled: runs.some((i) => i.outcome === 'ok'),
      handledBefore: state.handledEvents.has(key),
      attempts: runs.length,
      targetGone: !lambda.has(d.targetArn),
    };
  });
  out.filter((d) => d.handled).forEach((d) => state.handledEvents.add(`${d.eventId} ${d.targetArn}`));
  return out;
}
