/**
 * The lifecycle driver's deploys with rollback disabled, RollbackStack, failed creations, and
 * DeletionPolicy and UpdateReplacePolicy. The stand-in stack of test/support/stand-in-stack.ts.
 */
import type { LifecycleDriver } from '../driver/driver';
import { replacements } from '../driver/invariants';
import type { StepReport } from '../driver/reports';
import { lifecycleDriverPerTest } from '../support/deploys';
import { purgeResource, purges, STAND_IN_STACK as STACK, stack, statuses } from '../support/stand-in-stack';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started));
beforeEach(() => start());

describe('rollback disabled, RollbackStack, and failed creations', () => {
  /** Each request, with the old trigger an Update names, or the trigger of another. */
  const sent = (step: StepReport) => step.requests.map((r) => [r.requestType, r.logicalId, r.phase, (r.oldProperties ?? r.properties).Trigger]);
  const created = { Created: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'new' } } };
  const contentVersion = () => (driver.resource(STACK, 'Content')!.properties.SourceObjectKeys as string[])[0];

  test('a failed update with rollback disabled ends UPDATE_FAILED, keeping what it did and the failed resource as it was; a new deploy carries on from there', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const failed = await driver.deploy(stack({ version: 'v2', more: created, purge: { fail: true } }), { disableRollback: true });
    expect(statuses(failed)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_FAILED']);
    expect(JSON.stringify(driver.cloud.eventbridge.events.map((e) => e.event.detail))).toContain('"status":"UPDATE_FAILED"');
    expect([failed.stackStatus, failed.rollbackPending]).toEqual(['UPDATE_FAILED', true]);
    expect(failed.changes.filter((c) => c.phase !== 'deploy')).toEqual([]);
    expect([contentVersion(), driver.resource(STACK, 'Created')?.physicalId !== undefined]).toEqual(['v2', true]);
    expect(driver.resource(STACK, 'Purge')!.properties.Trigger).toEqual(['v1']);
    expect(driver.stackEvents(STACK)[0]).toMatchObject({ ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: expect.stringContaining('[Purge]') });

    // The next deploy sends each resource what it has now as its old properties, and cleans up what neither template keeps.
    const fixed = await driver.deploy(stack({ version: 'v3' }));
    expect(statuses(fixed)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE']);
    expect(sent(fixed)).toEqual([['Update', 'Purge', 'deploy', ['v1']]]);
    expect(fixed.content.map((c) => c.changedKeys)).toEqual([['index.html']]);
    expect(fixed.changes.filter((c) => c.phase === 'cleanup').map((c) => [c.logicalId, c.action])).toEqual([['Created', 'delete']]);
    expect(fixed.rollbackPending).toBe(false);

    // Deleted while UPDATE_FAILED: the custom resource whose Create failed goes first, while its handler is there.
    const extra = { Extra: { ...purgeResource('v3', undefined, true), DependsOn: ['Anchor'] } };
    expect((await driver.deploy(stack({ version: 'v3', more: extra }), { disableRollback: true })).stackStatus).toBe('UPDATE_FAILED');
    const deleted = await driver.destroy(STACK);
    expect(deleted.stackStatus).toBe('DELETE_COMPLETE');
    expect(deleted.requests.map((r) => [r.requestType, r.physicalId, r.answer?.Status])).toEqual([['Delete', 'Extra-1', 'SUCCESS'], ['Delete', 'Purge-1', 'SUCCESS']]);
  });

  test('RollbackStack puts every resource back to the last stable template, then deletes what the failed updates created; a failing deploy after UPDATE_FAILED rolls back there too', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    await expect(driver.rollbackStack(STACK)).rejects.toThrow(/only a stack in CREATE_FAILED or UPDATE_FAILED/);
    await driver.deploy(stack({ version: 'v2', more: created, purge: { fail: true } }), { disableRollback: true });
    const rolledBack = await driver.rollbackStack(STACK);
    expect(statuses(rolledBack)).toEqual(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE']);
    // The invalidation kept its old properties: nothing to put back.
    expect(sent(rolledBack)).toEqual([]);
    expect(rolledBack.content.map((c) => [c.phase, c.changedKeys])).toEqual([['rollback', ['index.html']]]);
    expect([contentVersion(), driver.resource(STACK, 'Created')]).toEqual(['v1', undefined]);
    expect(purges(rolledBack).map((p) => p.status)).toEqual(['UPDATE_ROLLBACK_COMPLETE']);
    const history = [...driver.stackEvents(STACK)].reverse();
    const back = history.findIndex((e) => e.LogicalResourceId === 'Content' && e.ResourceStatus === 'UPDATE_IN_PROGRESS' && e.ResourceProperties?.includes('"v1"'));
    const cleanup = history.findIndex((e) => e.ResourceStatus === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const deleted = history.findIndex((e) => e.LogicalResourceId === 'Created' && e.ResourceStatus === 'DELETE_COMPLETE');
    expect(0 < back && back < cleanup && cleanup < deleted).toBe(true);

    // Failed twice, the second time with rollback enabled: back to v1, not to what the first failure left.
    await driver.deploy(stack({ version: 'v2', more: created, purge: { fail: true } }), { disableRollback: true });
    const again = await driver.deploy(stack({ version: 'v3', more: created, extra: 'Tail' }), { fail: ['Tail'] });
    expect(statuses(again)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE']);
    expect(sent(again)).toEqual([['Update', 'Purge', 'deploy', ['v1']], ['Update', 'Purge', 'rollback', ['v3']]]);
    expect([contentVersion(), driver.resource(STACK, 'Created'), driver.resource(STACK, 'Purge')!.properties.Trigger]).toEqual(['v1', undefined, ['v1']]);
  });

  test('a failed creation rolls back, deleting everything it created dependents first, the custom resource whose Create failed too; with rollback disabled it ends CREATE_FAILED until rolled back', async () => {
    const failed = await driver.deploy(stack({ version: 'v1', purge: { fail: true } }));
    expect(statuses(failed)).toEqual(['CREATE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE']);
    expect(sent(failed)).toEqual([['Create', 'Purge', 'deploy', ['v1']], ['Delete', 'Purge', 'rollback', ['v1']]]);
    expect(failed.requests[1]).toMatchObject({ physicalId: 'Purge-1', stackStatus: 'ROLLBACK_IN_PROGRESS' });
    const creates = failed.changes.filter((c) => c.action === 'create').map((c) => c.logicalId);
    const deletes = failed.changes.filter((c) => c.action === 'delete').map((c) => c.logicalId);
    expect(deletes).toEqual(['Purge', ...creates.reverse()]);

    // `cdk deploy` deletes a stack whose creation rolled back, and creates it anew.
    const oldId = driver.stackId(STACK);
    const redeployed = await driver.deploy(stack({ version: 'v1', purge: { fail: true } }), { disableRollback: true });
    expect(redeployed.events.map((e) => [e.stackId === oldId, e.status])).toEqual([
      [true, 'DELETE_IN_PROGRESS'], [true, 'DELETE_COMPLETE'], [false, 'CREATE_IN_PROGRESS'], [false, 'CREATE_FAILED'],
    ]);
    expect(driver.resource(STACK, 'Handler')).toBeDefined();
    expect(redeployed.rollbackPending).toBe(true);
    const rolledBack = await driver.rollbackStack(STACK);
    expect(statuses(rolledBack)).toEqual(['ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE']);
    expect(sent(rolledBack)).toEqual([['Delete', 'Purge', 'rollback', ['v1']]]);
    expect(driver.resource(STACK, 'Handler')).toBeUndefined();
    expect(statuses(await driver.destroy(STACK))).toEqual(['DELETE_IN_PROGRESS', 'DELETE_COMPLETE']);

    // From CREATE_FAILED, a deploy updates the stack: the resource whose Create failed goes in the cleanup.
    await driver.deploy(stack({ version: 'v1', purge: { fail: true } }), { disableRollback: true });
    const fixed = await driver.deploy(stack({ version: 'v1', purge: { newId: 'Purge-2' } }));
    expect(statuses(fixed)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE']);
    expect(fixed.requests.map((r) => [r.requestType, r.physicalId ?? r.answer?.PhysicalResourceId, r.stackStatus])).toEqual([
      ['Create', 'Purge-2', 'UPDATE_IN_PROGRESS'], ['Delete', 'Purge-1', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'],
    ]);
  });
});

describe('DeletionPolicy and UpdateReplacePolicy', () => {
  const sent = (step: StepReport) => step.requests.map((r) => [r.requestType, r.logicalId, r.physicalId, r.phase]);
  const skipped = (step: StepReport) => step.changes.filter((c) => c.action === 'skip').map((c) => [c.logicalId, c.phase]);

  test('Retain keeps a resource that leaves the template or goes with the stack: no Delete', async () => {
    await driver.deploy(stack({ version: 'v1', purge: { DeletionPolicy: 'Retain' } }));
    const renamed = await driver.deploy(stack({ version: 'v1', purge: { id: 'Refresh', DeletionPolicy: 'Retain' } }));
    expect(sent(renamed)).toEqual([['Create', 'Refresh', undefined, 'deploy']]);
    expect(skipped(renamed)).toEqual([['Purge', 'cleanup']]);
    expect(driver.resource(STACK, 'Purge')).toBeUndefined();
    expect(driver.stackEvents(STACK).find((e) => e.LogicalResourceId === 'Purge')).toMatchObject({ ResourceStatus: 'DELETE_SKIPPED', PhysicalResourceId: 'Purge-1' });
    const deleted = await driver.destroy(STACK);
    expect(sent(deleted)).toEqual([]);
    expect(skipped(deleted)).toEqual([['Refresh', 'delete']]);
  });

  test('Retain keeps what a failed update or creation created through its rollback; RetainExceptOnCreate deletes it then, and only then', async () => {
    const created = (policy: string) => ({ Extra: { ...purgeResource('v2'), DeletionPolicy: policy } });
    await driver.deploy(stack({ version: 'v1' }));
    const retained = await driver.deploy(stack({ version: 'v2', more: created('Retain'), extra: 'Tail' }), { fail: ['Tail'] });
    expect(sent(retained).filter(([type]) => type !== 'Update')).toEqual([['Create', 'Extra', undefined, 'deploy']]);
    expect(skipped(retained)).toEqual([['Extra', 'rollback']]);
    const deleted = await driver.deploy(stack({ version: 'v2', more: created('RetainExceptOnCreate'), extra: 'Tail' }), { fail: ['Tail'] });
    expect(sent(deleted).filter(([type]) => type !== 'Update')).toEqual([['Create', 'Extra', undefined, 'deploy'], ['Delete', 'Extra', 'Extra-1', 'rollback']]);
    // Created by an update that succeeded, it outlives the stack.
    await driver.deploy(stack({ version: 'v2', more: created('RetainExceptOnCreate') }));
    const gone = await driver.destroy(STACK);
    expect(sent(gone)).toEqual([['Delete', 'Purge', 'Purge-1', 'delete']]);
    expect(skipped(gone)).toEqual([['Extra', 'delete']]);

    // A failed creation's rollback.
    for (const [policy, deletes] of [['Retain', []], ['RetainExceptOnCreate', [['Delete', 'Purge', 'Purge-1', 'rollback']]]] as const) {
      const step = await driver.deploy(stack({ version: 'v1', purge: { DeletionPolicy: policy }, extra: 'Tail' }), { fail: ['Tail'] });
      expect(step.stackStatus).toBe('ROLLBACK_COMPLETE');
      expect(sent(step).filter(([type]) => type === 'Delete')).toEqual(deletes);
    }
  });

  test('a custom resource that answers a new physical id is replaced: the cleanup deletes the old one, unless UpdateReplacePolicy is Retain', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const replaced = await driver.deploy(stack({ version: 'v2', purge: { newId: 'Purge-2' } }));
    expect(sent(replaced)).toEqual([['Update', 'Purge', 'Purge-1', 'deploy'], ['Delete', 'Purge', 'Purge-1', 'cleanup']]);
    expect(replaced.requests[1].properties.Trigger).toEqual(['v1']);
    expect(driver.resource(STACK, 'Purge')!.physicalId).toBe('Purge-2');
    expect(replacements(replaced)).toHaveLength(1);
    const kept = await driver.deploy(stack({ version: 'v3', purge: { newId: 'Purge-3', UpdateReplacePolicy: 'Retain' } }));
    expect(sent(kept)).toEqual([['Update', 'Purge', 'Purge-2', 'deploy']]);
    expect(skipped(kept)).toEqual([['Purge', 'cleanup']]);
    expect(driver.stackEvents(STACK).find((e) => e.ResourceStatus === 'DELETE_SKIPPED')).toMatchObject({ LogicalResourceId: 'Purge', PhysicalResourceId: 'Purge-2' });
  });
});
