/**
 * What the lifecycle driver makes of a template: Conditions, and BucketDeployments whose files
 * go when they are deleted (RetainOnDelete false). The stand-in stack of test/support/stand-in-stack.ts.
 */
import type { SynthesizedStack, Template } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import type { StepReport } from '../driver/reports';
import { lifecycleDriverPerTest } from '../support/deploys';
import { deployment, STAND_IN_STACK as STACK, stack } from '../support/stand-in-stack';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started));
beforeEach(() => start());

describe('conditions', () => {
  /** The stack with `Upload`, content that only exists while the parameter WithUpload is "yes" (its default), and an anchor as given. */
  function conditional(version: string, anchor: Template['Resources'][string]): SynthesizedStack {
    const base = stack({
      version,
      more: {
        Upload: { ...deployment(version, { DestinationBucketKeyPrefix: 'upload/', Mode: { 'Fn::If': ['HasUpload', 'on', { Ref: 'AWS::NoValue' }] } }), Condition: 'HasUpload' },
        Anchor: anchor,
      },
    });
    return {
      ...base,
      template: {
        ...base.template,
        Parameters: { WithUpload: { Type: 'String', Default: 'yes' } },
        Conditions: { HasUpload: { 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'WithUpload' }, 'yes'] }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'nowhere'] }] }] } },
      },
    };
  }
  const ifUpload = { 'Fn::If': ['HasUpload', { Ref: 'Upload' }, { Ref: 'AWS::NoValue' }] };
  const viaMetadata = { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: ['Content'], Metadata: { after: { Upload: ifUpload } } };
  const done = (step: StepReport, id: string) => step.changes.find((c) => c.logicalId === id && c.phase === 'deploy')?.finishedAt;

  test('a resource whose condition is false is not created, and the cleanup deletes it once its condition turns false; Fn::If takes its branch', async () => {
    const created = await driver.deploy(conditional('v1', viaMetadata));
    expect(driver.resource(STACK, 'Upload')?.properties).toMatchObject({ DestinationBucketKeyPrefix: 'upload/', Mode: 'on' });
    expect(created.content.map((c) => c.prefix).sort()).toEqual(['', 'upload/']);
    const off = await driver.deploy(conditional('v1', viaMetadata), { parameters: { WithUpload: 'no' } });
    expect(off.changes.filter((c) => c.logicalId === 'Upload').map((c) => [c.action, c.phase])).toEqual([['delete', 'cleanup']]);
    expect(driver.resource(STACK, 'Upload')).toBeUndefined();
    const fresh = 'Fresh';
    const skipped = await driver.deploy({ ...conditional('v1', viaMetadata), stackName: fresh }, { parameters: { WithUpload: 'no' } });
    expect(skipped.stackStatus).toBe('CREATE_COMPLETE');
    expect(driver.resource(fresh, 'Upload')).toBeUndefined();
    expect(driver.resource(fresh, 'Anchor')).toBeDefined();
  });

  test('a Ref in a resource\'s Metadata orders it after the resource named, while the condition holds', async () => {
    const step = await driver.deploy(conditional('v1', viaMetadata));
    expect(done(step, 'Upload')).toBeLessThan(done(step, 'Anchor')!);
    expect(done(step, 'Anchor')).toBeLessThan(done(step, 'Purge')!);
    // Without it, the anchor and the purge come first: Upload sorts after them.
    const unordered = await driver.deploy({ ...conditional('v1', { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: ['Content'] }), stackName: 'Unordered' });
    expect(done(unordered, 'Purge')).toBeLessThan(done(unordered, 'Upload')!);
  });

  test('a DependsOn on a resource whose condition is false is refused before anything is deployed, as CloudFormation refuses it', async () => {
    const dependsOnUpload = { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: ['Content', 'Upload'] };
    await driver.deploy(conditional('v1', viaMetadata));
    const events = driver.stackEvents(STACK).length;
    await expect(driver.deploy(conditional('v2', dependsOnUpload), { parameters: { WithUpload: 'no' } }))
      .rejects.toThrow(/^Template format error: Unresolved resource dependencies \[Upload\] in the Resources block of the template$/);
    expect([driver.stackStatus(STACK), driver.stackEvents(STACK).length]).toEqual(['CREATE_COMPLETE', events]);
    await expect(driver.deploy({ ...conditional('v1', dependsOnUpload), stackName: 'Refused' }, { parameters: { WithUpload: 'no' } })).rejects.toThrow(/Unresolved resource dependencies \[Upload\]/);
    expect(driver.stackStatus('Refused')).toBeUndefined();
    // While the condition holds, the same template deploys.
    expect((await driver.deploy(conditional('v2', dependsOnUpload))).stackStatus).toBe('UPDATE_COMPLETE');
  });
});

describe('a BucketDeployment with RetainOnDelete false', () => {
  const removals = (step: StepReport) => step.content.filter((c) => c.version === 'removed').map((c) => [c.bucket, c.prefix, c.phase, c.changedKeys]);

  test('removes its files when deleted (with the stack, by a rollback\'s cleanup, or as the old one of a rename) unless a deployment\'s tag owns the bucket; retaining, it keeps them', async () => {
    await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: 'false' } }));
    const deleted = await driver.destroy(STACK);
    expect(removals(deleted)).toEqual([['site', '', 'delete', ['index.html']]]);

    // RetainOnDelete true, or left out: the files stay.
    for (const retainOnDelete of [undefined, 'true', true]) {
      await driver.deploy(stack({ version: 'v1', content: { retainOnDelete } }));
      expect(removals(await driver.destroy(STACK))).toEqual([]);
    }

    // A deployment to another prefix that the failed update created: the cleanup removes its files, and only those.
    await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: false } }));
    const assets = { Assets: deployment('v2', { DestinationBucketKeyPrefix: 'assets/', RetainOnDelete: false }) };
    const rolledBack = await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: false }, more: assets, extra: 'Tail' }), { fail: ['Tail'] });
    expect(rolledBack.content.map((c) => [c.prefix, c.version === 'removed', c.phase])).toEqual([['assets/', false, 'deploy'], ['assets/', true, 'rollback']]);
    expect(removals(rolledBack)).toEqual([['site', 'assets/', 'rollback', ['assets/index.html']]]);

    // Renamed: the old one's Delete in the cleanup empties what the new one just deployed there.
    const renamed = await driver.deploy(stack({ version: 'v1', content: { id: 'Files', retainOnDelete: 'false' } }));
    expect(renamed.stackStatus).toBe('UPDATE_COMPLETE');
    expect(removals(renamed)).toEqual([['site', '', 'cleanup', ['index.html']]]);
    await driver.destroy(STACK);

    // CDK's tag on a destination bucket of the stack owns it: a rename removes nothing.
    await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: 'false', ownedBucket: true } }));
    const owned = await driver.deploy(stack({ version: 'v2', content: { id: 'Files', retainOnDelete: 'false', ownedBucket: true } }));
    expect([owned.stackStatus, removals(owned)]).toEqual(['UPDATE_COMPLETE', []]);
    expect(owned.content.map((c) => c.changedKeys)).toEqual([['index.html']]);
  });

  test('removes the files of the old destination when an Update moves them', async () => {
    await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: 'false' } }));
    const moved = await driver.deploy(stack({ version: 'v1', content: { retainOnDelete: 'false' }, more: { Content: deployment('v1', { RetainOnDelete: 'false', DestinationBucketKeyPrefix: 'www/' }) } }));
    expect(moved.content.map((c) => [c.prefix, c.version === 'removed', c.changedKeys])).toEqual([['', true, ['index.html']], ['www/', false, undefined]]);
  });
});
