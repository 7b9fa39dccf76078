/**
 * The handler's pure phases: deciding what a request asks for given what the stack says, and
 * planning the purge after a rollback from the stack rule's event. No I/O.
 */
import type { Facts } from '../../lambda/invalidation/decide';
import { decide, needsLateCheck, needsStackStatus, ROLLBACK_CLEANUP_STATUS } from '../../lambda/invalidation/decide';
import { planRequest } from '../../lambda/invalidation/plan';
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { requestSentAt } from '../../lambda/invalidation/protocol';
import { RequestRun } from '../../lambda/invalidation/request';
import { ignoreReason, isOwnStack, namedInEvents, planRollbackPurge, targetOfProperties } from '../../lambda/invalidation/rollback';
import type { RollbackPurgeEvent } from '../../src/shared/contract';
import { ANSWER_MARGIN_SECONDS, LEGACY_GUARD_RESOURCE_TYPE, MAX_TIMEOUT_SECONDS, RESOURCE_TYPE } from '../../src/shared/contract';
import { FakeRuntime } from '../support/fake-runtime';
import { invalidationProperties, invalidationRequest, REQUEST_STACK_ID } from '../support/requests';

const STACK = REQUEST_STACK_ID;
const PROPS = invalidationProperties({ WaitForCompletion: 'true' });

/** A request of the Invalidation with PROPS: a Create unless `overrides` say otherwise. */
function makeEvent(overrides: Partial<CloudFormationRequest> = {}): CloudFormationRequest {
  return invalidationRequest({ ResourceProperties: PROPS, ...overrides });
}

const changed = (type: 'Update' | 'Delete') => makeEvent({
  RequestType: type,
  PhysicalResourceId: 'Purge-1',
  ...(type === 'Update' ? { OldResourceProperties: { ...PROPS, Trigger: ['stack:0'] } } : {}),
});

function decision(event: CloudFormationRequest, facts: Facts) {
  return decide(event, planRequest(event), facts);
}

describe('deciding a request', () => {
  test('a Create purges, and waits when asked to', () => {
    expect(decision(makeEvent(), { late: false })).toMatchObject({ kind: 'invalidate', cleanup: false, settings: { waitForCompletion: true } });
  });

  test('an Update that changes the inputs purges while the stack goes forward', () => {
    expect(decision(changed('Update'), { late: false, stackStatus: 'UPDATE_IN_PROGRESS' })).toMatchObject({ kind: 'invalidate', cleanup: false });
  });

  test.each(['UPDATE_ROLLBACK_IN_PROGRESS', ROLLBACK_CLEANUP_STATUS, 'UPDATE_ROLLBACK_FAILED'])(
    'an Update during a rollback (%s) purges nothing and answers the restored ids: the stack rule purges once it is complete',
    (stackStatus) => {
      expect(decision(changed('Update'), { late: false, stackStatus })).toEqual({ kind: 'answer', status: 'RolledBack', recall: expect.objectContaining({ target: { distributionId: 'E123' } }) });
    },
  );

  test('an Update fails when the stack status cannot be read, rather than guess a rollback', () => {
    expect(decision(changed('Update'), { late: false })).toEqual({ kind: 'fail', reason: expect.stringContaining(`Could not read the status of stack ${STACK}`) });
  });

  test('a Delete in a rollback\'s cleanup purges, never waiting; any other Delete, or one whose stack status is unknown, purges nothing', () => {
    expect(decision(changed('Delete'), { late: false, stackStatus: ROLLBACK_CLEANUP_STATUS })).toMatchObject({ kind: 'invalidate', cleanup: true, settings: { waitForCompletion: false } });
    // The rollback of a failed first deploy deletes the library too: its Delete is the last chance to purge.
    expect(decision(changed('Delete'), { late: false, stackStatus: 'ROLLBACK_IN_PROGRESS' })).toMatchObject({ kind: 'invalidate', cleanup: true });
    for (const stackStatus of ['DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', undefined]) {
      expect(decision(changed('Delete'), { late: false, stackStatus })).toEqual({ kind: 'answer', status: 'Deleted' });
    }
  });

  test('a late duplicate does nothing, whatever the stack does', () => {
    expect(decision(makeEvent(), { late: true })).toEqual({ kind: 'answer', status: 'Late' });
    expect(decision(changed('Update'), { late: true, stackStatus: 'UPDATE_IN_PROGRESS' })).toEqual({ kind: 'answer', status: 'Late' });
    expect(decision(changed('Delete'), { late: true, stackStatus: ROLLBACK_CLEANUP_STATUS })).toEqual({ kind: 'answer', status: 'Deleted' });
  });

  test('an unchanged Update asks nothing of the stack and recalls the earlier ids', () => {
    const event = makeEvent({ RequestType: 'Update', PhysicalResourceId: 'Purge-1', OldResourceProperties: { ...PROPS, ServiceToken: 'arn:other' } });
    const plan = planRequest(event);
    expect([needsLateCheck(event, plan), needsStackStatus(event, plan)]).toEqual([false, false]);
    expect(decide(event, plan, { late: false })).toMatchObject({ kind: 'answer', status: 'Unchanged', recall: { target: { distributionId: 'E123' } } });
  });

  test('a Create reads nothing of the stack; a changing Update or a Delete reads its status and tells a late duplicate', () => {
    const needs = (event: CloudFormationRequest) => [needsStackStatus(event, planRequest(event)), needsLateCheck(event, planRequest(event))];
    expect([needs(makeEvent()), needs(changed('Update')), needs(changed('Delete'))]).toEqual([[false, false], [true, true], [true, true]]);
  });

  test('bad properties fail a Create and never a Delete', () => {
    const bad = { ...PROPS, DistributionId: 'not an id' };
    expect(decision(makeEvent({ ResourceProperties: bad }), { late: false })).toMatchObject({ kind: 'fail' });
    expect(decision(makeEvent({ RequestType: 'Delete', PhysicalResourceId: 'p', ResourceProperties: bad }), { late: false })).toEqual({ kind: 'answer', status: 'Deleted' });
  });

  test('a rollback guard of an earlier release is deleted without a purge', () => {
    const event = makeEvent({ RequestType: 'Delete', PhysicalResourceId: 'g', ResourceType: LEGACY_GUARD_RESOURCE_TYPE });
    expect(decision(event, { late: false, stackStatus: ROLLBACK_CLEANUP_STATUS })).toEqual({ kind: 'answer', status: 'Deleted' });
  });
});

describe('planning the purge after a rollback', () => {
  const rollbackEvent = (targets: unknown[], overrides: Record<string, unknown> = {}): RollbackPurgeEvent => ({
    rollbackPurge: { eventId: 'ev-1', stackId: STACK, status: 'UPDATE_ROLLBACK_COMPLETE', time: '2026-11-30T00:00:00Z', targets, ...overrides },
  } as unknown as RollbackPurgeEvent);

  test('one job per distinct target, equal targets once, with references from the event id', () => {
    const planned = planRollbackPurge(rollbackEvent([
      { DistributionId: 'E1', Paths: ['/*'] },
      { DistributionId: 'E1', Paths: ['/*', '/*'] },
      { DistributionId: 'E1', DistributionTenantId: 'dt_1', Paths: ['/a/*'] },
      { DistributionId: 'E2', Paths: ['/b', '/a'] },
    ]));
    expect(planned.jobs.map((j) => [j.target, j.batches.map((b) => b.paths)])).toEqual([
      [{ distributionId: 'E1' }, [['/*']]],
      [{ distributionId: 'E1', tenantId: 'dt_1' }, [['/a/*']]],
      [{ distributionId: 'E2' }, [['/a', '/b']]],
    ]);
    const again = planRollbackPurge(rollbackEvent([{ DistributionId: 'E1', Paths: ['/*'] }]));
    const other = planRollbackPurge(rollbackEvent([{ DistributionId: 'E1', Paths: ['/*'] }], { eventId: 'ev-2' }));
    expect(again.jobs[0].reference).toBe(planned.jobs[0].reference);
    expect(other.jobs[0].reference).not.toBe(planned.jobs[0].reference);
  });

  test('what the failed deploy named is purged too, after the template\'s targets, each distinct target once', () => {
    const planned = planRollbackPurge(rollbackEvent([{ DistributionId: 'E1', Paths: ['/index.html'] }]), [
      { DistributionId: 'E1', Paths: ['/index.html'] },
      { DistributionId: 'E1', Paths: ['/*'] },
      { DistributionId: 'E2', Paths: ['/index.html'] },
    ]);
    expect(planned.jobs.map((j) => [j.target.distributionId, j.batches.flatMap((b) => b.paths)])).toEqual([
      ['E1', ['/index.html']], ['E1', ['/*']], ['E2', ['/index.html']],
    ]);
  });

  test('an Invalidation\'s properties in a stack event give its distribution, tenant and paths; changedFiles its whole prefix', () => {
    expect(targetOfProperties(JSON.stringify({ ServiceToken: 'arn', DistributionId: 'E1', Paths: ['/a', '/b'], Trigger: ['x'] })))
      .toEqual({ DistributionId: 'E1', Paths: ['/a', '/b'] });
    expect(targetOfProperties(JSON.stringify({ DistributionId: 'E1', DistributionTenantId: 'dt_1', Paths: ['/*'], Trigger: [] })))
      .toEqual({ DistributionId: 'E1', DistributionTenantId: 'dt_1', Paths: ['/*'] });
    expect(targetOfProperties(JSON.stringify({ DistributionId: 'E1', Paths: ['/blog/*'], Trigger: [], ChangedFiles: { Root: '/blog/' } })))
      .toEqual({ DistributionId: 'E1', Paths: ['/blog/*'] });
    expect(targetOfProperties('{not json')).toBeUndefined();
    expect(targetOfProperties(JSON.stringify({ Paths: ['/*'] }))).toBeUndefined();
    // Another custom resource that happens to have a DistributionId.
    expect(targetOfProperties(JSON.stringify({ ServiceToken: 'arn', DistributionId: 'E1', Paths: ['/*'] }))).toBeUndefined();
  });

  test('paths that cannot be read purge everything rather than nothing, and say so', () => {
    const planned = planRollbackPurge(rollbackEvent([{ DistributionId: 'E1', Paths: ['no-slash'] }, { DistributionId: 'E2', Paths: 'x' }]));
    expect(planned).toMatchObject({ jobs: [{ batches: [{ paths: ['/*'] }] }, { batches: [{ paths: ['/*'] }] }] });
    expect(planned.fallbacks).toEqual([expect.stringContaining('targets[0] (distribution E1): Paths[0] "no-slash"'), expect.stringContaining('targets[1]')]);
  });

  test.each([
    ['another stack\'s event', { stackId: 'arn:aws:cloudformation:eu-west-1:999999999999:stack/Other/2' }, 'not this handler\'s stack'],
    ['another stack of the same name in another account', { stackId: STACK.replace(/:\d{12}:/, ':999999999999:') }, 'not this handler\'s stack'],
    ['another status', { status: 'UPDATE_ROLLBACK_FAILED' }, 'is not one of UPDATE_ROLLBACK_COMPLETE, UPDATE_FAILED, CREATE_FAILED'],
    ['an event without an id', { eventId: '' }, 'lacks its eventId'],
  ])('%s is ignored', (_what, overrides, why) => {
    expect(ignoreReason(rollbackEvent([{ DistributionId: 'E1', Paths: ['/*'] }], overrides), STACK)).toEqual(expect.stringContaining(why));
  });

  test.each(['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_FAILED', 'CREATE_FAILED'])('the stack status %s is acted on', (status) => {
    expect(ignoreReason(rollbackEvent([], { status }), STACK)).toBeUndefined();
  });

  test('the stack is known by its id, its id without the unique suffix, or its name, and by nothing else', () => {
    const own = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/1a2b3c4d-0000-1111-2222-333344445555';
    expect(isOwnStack(own, own)).toBe(true);
    expect(isOwnStack('arn:aws:cloudformation:eu-west-1:123456789012:stack/Site', own)).toBe(true);
    expect(isOwnStack('Site', own)).toBe(true);
    expect(isOwnStack('arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/ffffffff-0000-1111-2222-333344445555', own)).toBe(false);
    expect(isOwnStack('arn:aws:cloudformation:eu-west-1:123456789012:stack/SiteB', own)).toBe(false);
    expect(isOwnStack('Sit', own)).toBe(false);
    expect(isOwnStack('arn:aws:cloudformation:us-east-1:123456789012:stack/Site', own)).toBe(false);
  });
});

describe('what a failed deploy named, from the stack\'s events', () => {
  const stackEvent = (status: string, timestamp: number, resource?: { type: string; properties: unknown }) => ({
    logicalId: resource ? `R${timestamp}` : 'Site',
    resourceType: resource?.type ?? 'AWS::CloudFormation::Stack',
    status,
    timestamp,
    properties: resource ? JSON.stringify(resource.properties) : undefined,
  });
  const invalidation = (DistributionId: string, Paths: string[]) => ({ type: RESOURCE_TYPE, properties: { DistributionId, Paths, Trigger: [] } });
  const purge = (time: number) => ({ eventId: 'ev', stackId: STACK, status: 'UPDATE_ROLLBACK_COMPLETE', time: new Date(time).toISOString(), targets: [] });

  test('takes the failure whose status is closest to the event\'s time, back to the stable status before it', () => {
    // Newest first: a later failure (E3), the one the event is about (E2), a stable status, an older deploy (E1).
    const events = [
      stackEvent('UPDATE_ROLLBACK_COMPLETE', 9000),
      stackEvent('UPDATE_IN_PROGRESS', 8500, invalidation('E3', ['/*'])),
      stackEvent('UPDATE_IN_PROGRESS', 8000),
      stackEvent('UPDATE_ROLLBACK_COMPLETE', 5000),
      stackEvent('UPDATE_IN_PROGRESS', 4500, invalidation('E2', ['/a'])),
      stackEvent('UPDATE_IN_PROGRESS', 4000),
      stackEvent('UPDATE_COMPLETE', 3000),
      stackEvent('UPDATE_IN_PROGRESS', 2000, invalidation('E1', ['/*'])),
    ];
    expect(namedInEvents(events, purge(5000), STACK).found).toEqual([{ DistributionId: 'E2', Paths: ['/a'] }]);
    expect(namedInEvents(events, purge(9000), STACK).found).toEqual([{ DistributionId: 'E3', Paths: ['/*'] }]);
    // Long before any of them: not among these events.
    expect(namedInEvents(events, purge(-70_000), STACK).error).toMatch(/hold no UPDATE_ROLLBACK_COMPLETE/);
  });

  test('reads the targets the stack\'s rule was given in the failed deploy, which name Invalidations the deploy never reached', () => {
    const template = '{"rollbackPurge":{"eventId":<id>,"stackId":<stackId>,"status":<status>,"time":<time>,"targets":[{"DistributionId":"E9","Paths":["/moved/*"]}]}}';
    const rule = { type: 'AWS::Events::Rule', properties: { EventPattern: {}, Targets: [{ Id: 'Target0', InputTransformer: { InputPathsMap: {}, InputTemplate: template } }] } };
    const other = { type: 'AWS::Events::Rule', properties: { Targets: [{ Id: 'T', InputTransformer: { InputTemplate: '{"other":<id>}' } }] } };
    const events = [stackEvent('UPDATE_ROLLBACK_COMPLETE', 5000), stackEvent('UPDATE_IN_PROGRESS', 4500, rule), stackEvent('UPDATE_IN_PROGRESS', 4400, other), stackEvent('UPDATE_COMPLETE', 3000)];
    expect(namedInEvents(events, purge(5000), STACK).found).toEqual([{ DistributionId: 'E9', Paths: ['/moved/*'] }]);
  });
});

describe('when CloudFormation sent a request', () => {
  test('is read from the X-Amz-Date of its presigned ResponseURL', () => {
    const url = 'https://bucket.s3.amazonaws.com/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261204T184051Z&X-Amz-Expires=7200&X-Amz-Signature=abc';
    expect(requestSentAt({ ResponseURL: url })).toBe(Date.UTC(2026, 11, 4, 18, 40, 51));
  });

  test.each(['https://x/key?X-Amz-Signature=abc', 'https://x/key?X-Amz-Date=yesterday', 'not a url'])('is unknown for %s', (url) => {
    expect(requestSentAt({ ResponseURL: url })).toBeUndefined();
  });
});

describe('answering', () => {
  test('an answer is tried for as long as CloudFormation waits for it (the timeout plus the answer margin), not for all of Lambda\'s time', async () => {
    const now = 1_000_000;
    const fake = new FakeRuntime({ now }).always('stackStatus', { value: { status: 'UPDATE_IN_PROGRESS' } });
    /** The deadline of every answer sent since the last look. */
    const until = (): number[] => fake.answers.splice(0).map((a) => a.until);
    // Bad properties, answered at once (FAILED): with a timeout that reads, and one that does not
    // (then the longest CloudFormation may wait).
    await new RequestRun(makeEvent({ ResourceProperties: { ...PROPS, DistributionId: 'not an id', TimeoutSeconds: '60' } }), undefined, fake).run();
    await new RequestRun(makeEvent({ ResourceProperties: { ...PROPS, TimeoutSeconds: 'soon' } }), undefined, fake).run();
    expect(until()).toEqual([now + (60 + ANSWER_MARGIN_SECONDS) * 1000, now + (MAX_TIMEOUT_SECONDS + ANSWER_MARGIN_SECONDS) * 1000]);
    const unchanged = makeEvent({ RequestType: 'Update', PhysicalResourceId: 'p', OldResourceProperties: { ...PROPS, ServiceToken: 'other' } });
    await new RequestRun(unchanged, undefined, fake).run();
    expect(until()).toEqual([now + (60 + ANSWER_MARGIN_SECONDS) * 1000]);

    // Sent 100 s before this invocation began (Lambda's queue, or an earlier attempt): the budget counts from then.
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const sentEarlier = (ms: number) => makeEvent({ ...unchanged, ResponseURL: `https://x/key?X-Amz-Date=${stamp(ms)}&X-Amz-Signature=s` });
    await new RequestRun(sentEarlier(now - 100_000), undefined, fake).run();
    expect(until()).toEqual([now - 100_000 + (60 + ANSWER_MARGIN_SECONDS) * 1000]);
    // Sent longer ago than CloudFormation waits: nothing is done, and no answer goes out.
    await new RequestRun(sentEarlier(now - (60 + ANSWER_MARGIN_SECONDS + 1) * 1000), undefined, fake).run();
    expect(until()).toEqual([]);
  });
});
