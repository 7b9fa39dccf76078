/**
 * The lifecycle driver on its own: stack status sequences and their events, failed rollbacks and
 * ContinueUpdateRollback, late and repeated event deliveries, and DescribeStackEvents. Hand-made
 * templates and a stand-in handler that only answers (test/support/stand-in-stack.ts), so that what
 * is tested is the driver, as CloudFormation, not the library.
 */
import { CloudFormationClient, DescribeStackEventsCommand, paginateDescribeStackEvents } from '@aws-sdk/client-cloudformation';
import type { StackEvent } from '@aws-sdk/client-cloudformation';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { LifecycleDriver } from '../driver/driver';
import { lifecycleDriverPerTest } from '../support/deploys';
import { purges, STAND_IN_STACK as STACK, stack, statuses } from '../support/stand-in-stack';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started));
beforeEach(() => start());

describe('stack status sequences, each sent to EventBridge', () => {
  test('a creation, an update with its cleanup, no update for the same template, and a deletion', async () => {
    const created = await driver.deploy(stack({ version: 'v1', extra: 'Old' }));
    expect(statuses(created)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
    const updated = await driver.deploy(stack({ version: 'v2' }));
    expect(statuses(updated)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE']);
    expect(updated.changes.filter((c) => c.action === 'delete').map((c) => [c.logicalId, c.phase])).toEqual([['Old', 'cleanup']]);
    const events = driver.cloud.eventbridge.events.map((e) => e.event);
    expect(events.every((e) => e.source === 'aws.cloudformation' && e.resources[0] === driver.stackId(STACK))).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const same = await driver.deploy(stack({ version: 'v2' }));
    expect([same.stackStatus, same.events]).toEqual(['UPDATE_COMPLETE', []]);
    const deleted = await driver.destroy(STACK);
    expect(statuses(deleted)).toEqual(['DELETE_IN_PROGRESS', 'DELETE_COMPLETE']);
    expect(updated.deliveries).toEqual([]);
  });

  test('a failed update rolls back, cleans up what it created, and the rule hands the handler the purge at UPDATE_ROLLBACK_COMPLETE', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const step = await driver.deploy(stack({ version: 'v2', rulePaths: ['/new/*'], extra: 'Fails' }), { fail: ['Fails'] });
    expect(statuses(step)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE']);
    // The rule was updated by the failed update and put back by the rollback: the purge names the old paths.
    expect(purges(step)).toEqual([expect.objectContaining({ status: 'UPDATE_ROLLBACK_COMPLETE', targets: [{ DistributionId: '123456789012', Paths: ['/*'] }] })]);
    expect(step.deliveries[0]).toMatchObject({ outcome: 'invoked', handled: true, handledBefore: false, attempts: 1, copy: 1 });
    const invocation = driver.cloud.lambda.invocations.find((i) => i.payload === step.deliveries[0].payload)!;
    expect(invocation.source).toBe('event');
  });

  test('a rule that the failed update created is gone by UPDATE_ROLLBACK_COMPLETE: nothing is delivered', async () => {
    await driver.deploy(stack({ version: 'v1', rule: false }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.changes.filter((c) => c.phase === 'rollback' && c.action === 'delete').map((c) => c.logicalId)).toContain('Rule');
    expect(step.deliveries).toEqual([]);
  });

  test('without the function\'s permission, the event is not delivered but kept in the rule target\'s dead-letter queue', async () => {
    await driver.deploy(stack({ version: 'v1', permission: false }));
    const step = await driver.deploy(stack({ version: 'v2', permission: false, extra: 'Fails' }), { fail: ['Fails'] });
    expect(step.deliveries.map((d) => d.outcome)).toEqual(['dead-lettered']);
    expect(driver.cloud.eventbridge.deadLetters).toHaveLength(1);
  });
});

describe('failed rollbacks', () => {
  test('end UPDATE_ROLLBACK_FAILED without cleanup or purge; ContinueUpdateRollback puts back the rest, cleans up, and the purge follows', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const failing = stack({ version: 'v2', extra: 'Fails' });
    const step = await driver.deploy(failing, { fail: ['Fails'], failRollback: ['Content'] });
    expect(statuses(step)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED']);
    expect(step.rollbackPending).toBe(true);
    expect(step.content.map((c) => c.phase)).toEqual(['deploy']);
    expect(step.deliveries).toEqual([]);
    // What the failed update created is still there: no cleanup yet.
    expect(driver.resource(STACK, 'Anchor')).toBeDefined();
    await expect(driver.deploy(stack({ version: 'v3' }))).rejects.toThrow(/UPDATE_ROLLBACK_FAILED state and can not be updated/);
    await expect(driver.continueUpdateRollback(STACK, { resourcesToSkip: ['Purge'] })).rejects.toThrow(/Only resources that failed to roll back/);

    const resumed = await driver.continueUpdateRollback(STACK);
    expect(statuses(resumed)).toEqual(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE']);
    expect(resumed.content.map((c) => [c.version, c.phase])).toEqual([[driver.steps[0].content[0].version, 'rollback']]);
    expect(purges(resumed).map((p) => p.status)).toEqual(['UPDATE_ROLLBACK_COMPLETE']);
    expect(resumed.rollbackPending).toBe(false);
    // The stack is as before the failed update, and can be updated again.
    expect(driver.resource(STACK, 'Fails')).toBeUndefined();
    expect((await driver.deploy(stack({ version: 'v3' }))).stackStatus).toBe('UPDATE_COMPLETE');
  });

  test('a rollback continued while skipping the resource that failed leaves it as it is', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    await driver.deploy(stack({ version: 'v2' }), { fail: ['Purge'], failRollback: ['Content'] });
    const resumed = await driver.continueUpdateRollback(STACK, { resourcesToSkip: ['Content'] });
    expect(resumed.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(resumed.changes.filter((c) => c.action === 'skip').map((c) => c.logicalId)).toEqual(['Content']);
    expect(resumed.content).toEqual([]);
  });

  test('can fail again, and be continued once more', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    await driver.deploy(stack({ version: 'v2' }), { fail: ['Purge'], failRollback: ['Content'] });
    expect((await driver.continueUpdateRollback(STACK, { fail: ['Content'] })).stackStatus).toBe('UPDATE_ROLLBACK_FAILED');
    expect((await driver.continueUpdateRollback(STACK)).stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
  });
});

describe('events delivered at least once', () => {
  test('twice: the same event id reaches the target twice in the step', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'], events: { twice: true } });
    expect(step.deliveries.map((d) => [d.copy, d.handled])).toEqual([[1, true], [2, true]]);
    expect(new Set(step.deliveries.map((d) => d.eventId)).size).toBe(1);
  });

  test('late, once the next step has begun: the rollback step ends with it held, the next one delivers it', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'], events: { late: 'next-step' } });
    expect([step.deliveries, step.heldDeliveries]).toEqual([[], 1]);
    const next = await driver.deploy(stack({ version: 'v3' }));
    expect(next.deliveries.map((d) => [d.status, d.late, d.handled])).toEqual([['UPDATE_ROLLBACK_COMPLETE', true, true]]);
    expect(next.deliveries[0].sentAt).toBeLessThan(next.events[0].reachedAt);
    // Delivered again in a later step, the same event counts as handled before.
    driver.cloud.eventbridge.putEvent(driver.cloud.eventbridge.events.find((e) => e.event.id === next.deliveries[0].eventId)!.event, { late: 'next-step' });
    const again = await driver.deliverHeldEvents(STACK);
    expect(again.deliveries.map((d) => d.handledBefore)).toEqual([true]);
  });

  test('late by a delay: the step waits for it', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'], events: { late: 300 } });
    expect(step.deliveries.map((d) => [d.late, d.handled])).toEqual([[true, true]]);
    expect(step.deliveries[0].deliveredAt).toBeGreaterThan(step.events[step.events.length - 1].reachedAt);
  });

  test('at random, from the driver\'s seed', async () => {
    const seeded = await LifecycleDriver.start({ seed: 7, eventFaults: { duplicateRate: 1, lateRate: 1, lateMs: 50 } });
    try {
      await seeded.deploy(stack({ version: 'v1' }));
      const step = await seeded.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'] });
      const delivered = [...step.deliveries, ...(await seeded.deliverHeldEvents(STACK)).deliveries];
      expect(delivered.map((d) => [d.copy, d.late])).toEqual([[1, true], [2, true]]);
    } finally {
      await seeded.close();
    }
  });
});

describe('DescribeStackEvents', () => {
  const client = () => new CloudFormationClient({
    region: 'eu-west-1', endpoint: driver.cloud.cloudformation.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 3,
  });
  const readEvents = { Effect: 'Allow', Action: 'cloudformation:DescribeStackEvents', Resource: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK}/*` };
  /** Chronological: status, logical id, resource properties (parsed) of the resource's events. */
  const of = (events: StackEvent[], id: string) => [...events].reverse().filter((e) => e.LogicalResourceId === id)
    .map((e) => {
      const properties = e.ResourceProperties === undefined ? undefined : JSON.parse(e.ResourceProperties);
      return [e.ResourceStatus, properties?.Trigger ?? properties?.Value];
    });

  test('lists every resource and stack status change, newest first, a page at a time, by stack name or id, with the properties used and why a resource failed', async () => {
    await driver.close();
    await start({ cloud: { eventsPageSize: 5 } });
    await driver.deploy(stack({ version: 'v1', statements: [readEvents] }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Tail', statements: [readEvents] }), { fail: ['Tail'] });

    const pages: StackEvent[][] = [];
    for await (const page of paginateDescribeStackEvents({ client: client() }, { StackName: STACK })) {
      pages.push(page.StackEvents ?? []);
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.slice(0, -1).every((p) => p.length === 5)).toBe(true);
    const events = pages.flat();
    const byId = await client().send(new DescribeStackEventsCommand({ StackName: driver.stackId(STACK) }));
    expect(byId.StackEvents).toEqual(events.slice(0, 5));
    expect(byId.NextToken).toBeDefined();
    expect(events.map((e) => e.EventId)).toEqual(driver.stackEvents(STACK).map((e) => e.EventId));
    expect(new Set(events.map((e) => e.EventId)).size).toBe(events.length);
    const times = events.map((e) => e.Timestamp!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(events.every((e) => e.StackId === driver.stackId(STACK) && e.StackName === STACK)).toBe(true);

    // The stack's own events, one per status change, newest first.
    const own = events.filter((e) => e.ResourceType === 'AWS::CloudFormation::Stack');
    expect(own.every((e) => e.LogicalResourceId === STACK && e.PhysicalResourceId === driver.stackId(STACK))).toBe(true);
    expect(own.map((e) => e.ResourceStatus).reverse()).toEqual(driver.steps.flatMap((s) => s.events.map((e) => e.status)));
    expect(own[0].ResourceStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(own.find((e) => e.ResourceStatus === 'UPDATE_ROLLBACK_IN_PROGRESS')!.ResourceStatusReason).toMatch(/failed to update: \[Tail\]/);

    // The custom resource: created, updated forward, and back by the rollback with the properties put back.
    expect(of(events, 'Purge')).toEqual([
      ['CREATE_IN_PROGRESS', ['v1']], ['CREATE_COMPLETE', undefined],
      ['UPDATE_IN_PROGRESS', ['v2']], ['UPDATE_COMPLETE', undefined],
      ['UPDATE_IN_PROGRESS', ['v1']], ['UPDATE_COMPLETE', undefined],
    ]);
    const purge = [...events].reverse().filter((e) => e.LogicalResourceId === 'Purge');
    expect(purge.map((e) => e.PhysicalResourceId)).toEqual(['', 'Purge-1', 'Purge-1', 'Purge-1', 'Purge-1', 'Purge-1']);
    expect(purge[0].ResourceType).toBe(RESOURCE_TYPE);
    expect(JSON.parse(purge[0].ResourceProperties!)).toMatchObject({ DistributionId: 'E1', Paths: ['/*'], ServiceToken: expect.stringMatching(/^arn:aws:lambda:/) });
    // The resource that failed, with the reason; what the update created, deleted by the rollback's cleanup.
    expect(of(events, 'Tail')).toEqual([['CREATE_IN_PROGRESS', 'v2'], ['CREATE_FAILED', undefined]]);
    expect([...events].find((e) => e.LogicalResourceId === 'Tail' && e.ResourceStatus === 'CREATE_FAILED')!.ResourceStatusReason).toMatch(/Failure injected/);
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(of(events, 'Content').map(([status]) => status)).toEqual([
      'CREATE_IN_PROGRESS', 'CREATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE',
    ]);
  });

  test('is refused without IAM for it, says so for a stack that does not exist, and can be throttled', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    await expect(client().send(new DescribeStackEventsCommand({ StackName: STACK }))).rejects.toThrow(/not authorized to perform: cloudformation:DescribeStackEvents/);
    await driver.deploy(stack({ version: 'v2', statements: [readEvents] }));
    let throttled = 0;
    driver.cloud.cloudformation.throttleDescribeStackEvents = () => ++throttled <= 1;
    const out = await client().send(new DescribeStackEventsCommand({ StackName: STACK }));
    expect(out.StackEvents![0]).toMatchObject({ LogicalResourceId: STACK, ResourceStatus: 'UPDATE_COMPLETE' });
    expect(driver.cloud.cloudformation.eventsCalls.map((c) => c.status)).toEqual(['Throttling', 'UPDATE_COMPLETE']);
    // A deleted stack's events are listed by its id only.
    const id = driver.stackId(STACK)!;
    await driver.destroy(STACK);
    driver.cloud.authorizer = () => true;
    await expect(client().send(new DescribeStackEventsCommand({ StackName: STACK }))).rejects.toThrow(`Stack [${STACK}] does not exist`);
    expect((await client().send(new DescribeStackEventsCommand({ StackName: id }))).StackEvents![0].ResourceStatus).toBe('DELETE_COMPLETE');
  });
});
