/**
 * The invariant checks of test/driver/invariants.ts themselves, on hand-made step reports: what
 * they flag, what they allow, and when they judge a rollback's revert.
 */
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { allowedForDeliveries, allowedInvalidations, duplicateInvalidations, extraAnswers, InvariantChecker, uncoveredChanges } from '../driver/invariants';
import type { EventDelivery, RequestRecord, StepReport } from '../driver/reports';

describe('the invariant checks themselves', () => {
  const base: StepReport = {
    stackName: 'S', stackStatus: 'UPDATE_COMPLETE', changes: [], requests: [], content: [], invalidations: [], events: [], deliveries: [], heldDeliveries: 0, rollbackPending: false,
  };
  const invalidation = (at: number, paths = ['/*'], ref = 'a-b-1') => ({
    id: `I${at}`, distributionId: 'E1', callerReference: ref, paths, createdAt: 0, createdAtRequest: at, completesAt: 0,
  });
  const answer = { Status: 'SUCCESS' as const, PhysicalResourceId: 'p', StackId: 's', RequestId: 'r', LogicalResourceId: 'P', Data: { Status: 'Submitted' } };
  const request: RequestRecord = {
    logicalId: 'P',
    resourceType: RESOURCE_TYPE,
    requestType: 'Update',
    requestId: 'r',
    phase: 'deploy',
    stackStatus: 'UPDATE_IN_PROGRESS',
    sentAt: 0,
    properties: { Paths: ['/*'], Trigger: ['2'] },
    oldProperties: { Paths: ['/*'], Trigger: ['1'] },
    answer,
  };
  const delivery = (eventId: string, overrides: Partial<EventDelivery> = {}): EventDelivery => ({
    eventId,
    detailType: 'CloudFormation Stack Status Change',
    status: 'UPDATE_ROLLBACK_COMPLETE',
    ruleArn: 'r',
    targetId: 'T',
    targetArn: 'fn',
    payload: { rollbackPurge: { targets: [{ DistributionId: 'E1', Paths: ['/*'] }, { DistributionId: 'E1', Paths: ['/*'] }, { DistributionId: 'E2', Paths: ['/a'] }] } },
    copy: 1,
    late: false,
    sentAt: 0,
    deliveredAt: 1,
    outcome: 'invoked',
    handled: true,
    handledBefore: false,
    attempts: 1,
    targetGone: false,
    ...overrides,
  });

  test('flag content that was not purged after it landed', () => {
    const content = [{ bucket: 'b', prefix: '', version: 'v2', distributions: ['E1'], phase: 'deploy' as const, landedAt: 5 }];
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(4)] })).toHaveLength(1);
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(6, ['/other'])] })).toHaveLength(1);
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(6)] })).toEqual([]);
  });

  test('allow a purge for a forward change, a rollback\'s cleanup Delete and a first rollback event; none otherwise', () => {
    expect(allowedInvalidations(request)).toBe(1);
    expect(allowedInvalidations({ ...request, oldProperties: request.properties })).toBe(0);
    expect(allowedInvalidations({ ...request, stackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS' })).toBe(0);
    expect(allowedInvalidations({ ...request, phase: 'redelivery' })).toBe(0);
    expect(allowedInvalidations({ ...request, requestType: 'Delete', stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' })).toBe(0);
    expect(allowedInvalidations({ ...request, requestType: 'Delete', stackStatus: 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' })).toBe(1);
    // Two distinct targets; the same event twice, handled before, dead-lettered or of another status, nothing more.
    expect(allowedForDeliveries([delivery('e1'), delivery('e1', { copy: 2 })])).toBe(2);
    expect(allowedForDeliveries([delivery('e1', { handledBefore: true })])).toBe(0);
    expect(allowedForDeliveries([delivery('e1', { outcome: 'dead-lettered' })])).toBe(0);
    expect(allowedForDeliveries([delivery('e1', { status: 'UPDATE_ROLLBACK_FAILED' })])).toBe(0);
    expect(duplicateInvalidations({ ...base, requests: [request], invalidations: [invalidation(1)] })).toEqual([]);
    expect(duplicateInvalidations({ ...base, requests: [request], invalidations: [invalidation(1), invalidation(2, ['/*'], 'a-c-1')] })).toHaveLength(1);
  });

  test('flag a request answered more often than it was delivered', () => {
    const create = { ...request, requestType: 'Create' as const };
    expect(extraAnswers({ ...base, requests: [{ ...create, answers: [answer, { ...answer, Status: 'FAILED' }], deliveries: 2 }] })).toEqual([]);
    expect(extraAnswers({ ...base, requests: [{ ...create, answers: [answer, answer], deliveries: 1 }] })).toHaveLength(1);
  });

  test('judge a rollback\'s revert once its late event or continued rollback had the chance to purge it', () => {
    const cloudfront = { hasDistribution: () => true, peaks: new Map() } as never;
    const revert = { bucket: 'b', prefix: '', version: 'v1', distributions: ['E1'], phase: 'rollback' as const, landedAt: 5 };
    const rollback = {
      stackStatus: 'UPDATE_ROLLBACK_COMPLETE', status: 'UPDATE_ROLLBACK_IN_PROGRESS', eventId: 'x', stackName: 'S', stackId: 's', reachedAt: 1,
    };
    const held = new InvariantChecker(cloudfront);
    expect(held.check({ ...base, content: [revert], events: [rollback], heldDeliveries: 1 })).toEqual([]);
    expect(held.check({ ...base, invalidations: [invalidation(9)], deliveries: [delivery('e1')] })).toEqual([]);
    const lost = new InvariantChecker(cloudfront);
    expect(lost.check({ ...base, content: [revert], rollbackPending: true })).toEqual([]);
    expect(lost.awaiting).toBe(1);
    expect(lost.check(base)).toHaveLength(1);
  });
});
