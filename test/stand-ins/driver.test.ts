/**
 * The lifecycle driver on its own: stack status sequences and their events, rules deployed and
 * rolled back with the stack, failed rollbacks and ContinueUpdateRollback, late and repeated event
 * deliveries, and the invariant checks. Hand-made templates and a stand-in handler that only
 * answers, so that what is tested is the driver, as CloudFormation, not the library.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, DescribeStackEventsCommand, paginateDescribeStackEvents } from '@aws-sdk/client-cloudformation';
import type { StackEvent } from '@aws-sdk/client-cloudformation';
import type { SynthesizedStack, Template } from '../driver/assembly';
import type { EventDelivery, RequestRecord, StepReport } from '../driver/driver';
import { LifecycleDriver } from '../driver/driver';
import { allowedForDeliveries, allowedInvalidations, duplicateInvalidations, extraAnswers, InvariantChecker, replacements, uncoveredChanges } from '../driver/invariants';

const STACK = 'DriverTest';
let codeDir: string;
let driver: LifecycleDriver;

beforeAll(() => {
  codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'driver-test-'));
  // Answers every request SUCCESS (a Create or Update FAILED when asked to) and records nothing else.
  fs.writeFileSync(path.join(codeDir, 'index.js'), `
exports.handler = async (event) => {
  if (!event.ResponseURL) { return; }
  const failed = event.ResourceProperties.Fail === 'true' && event.RequestType !== 'Delete';
  const body = JSON.stringify({
    Status: failed ? 'FAILED' : 'SUCCESS', Reason: failed ? 'asked to fail' : undefined,
    PhysicalResourceId: event.ResourceProperties.NewId || event.PhysicalResourceId || event.LogicalResourceId + '-1',
    StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: { Status: 'Done' },
  });
  await fetch(event.ResponseURL, { method: 'PUT', body });
};`);
});

afterAll(() => {
  fs.rmSync(codeDir, { recursive: true, force: true });
});

beforeEach(async () => {
  driver = await LifecycleDriver.start();
});

afterEach(async () => {
  await driver.close();
});

interface Shape {
  readonly version: string;
  /** Paths the rule's rollback purge names. */
  readonly rulePaths?: string[];
  /** Leave the rule out, or the function's permission for it. */
  readonly rule?: boolean;
  readonly permission?: boolean;
  /** An extra resource, to fail or to be created by the update. */
  readonly extra?: string;
  /** Statements of an IAM policy on the handler's role. */
  readonly statements?: unknown[];
  /** Further resources. */
  readonly more?: Template['Resources'];
  /** The invalidation: its logical id, policies, and the physical id it answers (a new one replaces it). */
  readonly purge?: {
    readonly id?: string;
    readonly DeletionPolicy?: string;
    readonly UpdateReplacePolicy?: string;
    /** The physical id its handler answers. */
    readonly newId?: string;
    /** Its handler answers FAILED. */
    readonly fail?: boolean;
  };
  /** The BucketDeployment: its logical id, RetainOnDelete, and a bucket of the stack tagged as CDK tags its destination. */
  readonly content?: { readonly id?: string; readonly retainOnDelete?: unknown; readonly ownedBucket?: boolean };
}

/** A folder of site files for each version, as a BucketDeployment's source. */
function siteFiles(version: string): string {
  const dir = path.join(codeDir, 'site', version);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), version);
  return dir;
}

/** An invalidation of the stand-in handler, which answers `newId` as its physical id if given. */
function purgeResource(version: string, newId?: string, fail?: boolean): Template['Resources'][string] {
  return {
    Type: 'Custom::CloudFrontInvalidation',
    Properties: {
      ServiceToken: { 'Fn::GetAtt': ['Handler', 'Arn'] },
      DistributionId: 'E1',
      Paths: ['/*'],
      Trigger: [version],
      ...(newId ? { NewId: newId } : {}),
      ...(fail ? { Fail: 'true' } : {}),
    },
  };
}

/** A BucketDeployment of a version's files. */
function deployment(version: string, props: Record<string, unknown> = {}): Template['Resources'][string] {
  return { Type: 'Custom::CDKBucketDeployment', Properties: { ServiceToken: 'x', DestinationBucketName: 'site', SourceObjectKeys: [version], ...props } };
}

/** A stack shaped like the library's: content, an anchor after it, the custom resource, the handler, the rule and its DLQ. */
function stack({ version, rulePaths = ['/*'], rule = true, permission = true, extra, statements, more, content = {}, purge = {} }: Shape): SynthesizedStack {
  const contentId = content.id ?? 'Content';
  const { id: purgeId = 'Purge', newId, fail, ...policies } = purge;
  const resources: Template['Resources'] = {
    Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    Handler: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { S3Bucket: 'assets', S3Key: 'handler.zip' },
        Handler: 'index.handler',
        Runtime: 'nodejs20.x',
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Environment: { Variables: { INVALIDATION_STACK_ID: { Ref: 'AWS::StackId' } } },
      },
    },
    [contentId]: deployment(version, {
      ...(content.retainOnDelete === undefined ? {} : { RetainOnDelete: content.retainOnDelete }),
      ...(content.ownedBucket ? { DestinationBucketName: { Ref: 'Bucket' } } : {}),
    }),
    Anchor: { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: [contentId] },
    [purgeId]: { ...purgeResource(version, newId, fail), DependsOn: ['Anchor'], ...policies },
    Dlq: { Type: 'AWS::SQS::Queue' },
  };
  if (rule) {
    resources.DlqPolicy = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Dlq' }],
        PolicyDocument: {
          Statement: [{
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': ['Dlq', 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['Rule', 'Arn'] } } },
          }],
        },
      },
    };
    resources.Rule = {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: {
          'source': ['aws.cloudformation'],
          'detail-type': ['CloudFormation Stack Status Change'],
          'detail': { 'stack-id': [{ Ref: 'AWS::StackId' }], 'status-details': { status: ['UPDATE_ROLLBACK_COMPLETE'] } },
        },
        State: 'ENABLED',
        Targets: [{
          Id: 'Target0',
          Arn: { 'Fn::GetAtt': ['Handler', 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
          InputTransformer: {
            InputPathsMap: { 'id': '$.id', 'detail-stack-id': '$.detail.stack-id', 'detail-status-details-status': '$.detail.status-details.status', 'time': '$.time' },
            InputTemplate: {
              'Fn::Join': ['', [
                '{"rollbackPurge":{"eventId":<id>,"stackId":<detail-stack-id>,"status":<detail-status-details-status>,"time":<time>,"targets":[{"DistributionId":"',
                { Ref: 'AWS::AccountId' },
                `","Paths":${JSON.stringify(rulePaths)}}]}}`,
              ]],
            },
          },
        }],
      },
    };
    if (permission) {
      resources.Permission = {
        Type: 'AWS::Lambda::Permission',
        Properties: { Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': ['Handler', 'Arn'] }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': ['Rule', 'Arn'] } },
      };
    }
  }
  if (content.ownedBucket) {
    resources.Bucket = { Type: 'AWS::S3::Bucket', Properties: { Tags: [{ Key: `aws-cdk:cr-owned:${contentId.slice(0, 8)}`, Value: 'true' }] } };
  }
  if (extra) {
    resources[extra] = { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: version }, DependsOn: [contentId] };
  }
  if (statements) {
    resources.HandlerPolicy = { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'handler', Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: statements } } };
  }
  Object.assign(resources, more);
  const assetDirs = new Map([['handler.zip', codeDir], ...['v1', 'v2', 'v3'].map((v): [string, string] => [v, siteFiles(v)])]);
  return { stackName: STACK, template: { Resources: resources }, assemblyDir: codeDir, assetDirs };
}

const statuses = (step: StepReport) => step.events.filter((e) => e.stackName === STACK).map((e) => e.status);
type Purge = { rollbackPurge: { status: string; targets: Array<{ Paths: string[] }> } };
const purges = (step: StepReport) => step.deliveries.map((d) => (d.payload as Purge).rollbackPurge);

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
    expect(next.deliveries[0].sentAt).toBeLessThan(next.events[0].at);
    // Delivered again in a later step, the same event counts as handled before.
    driver.cloud.eventbridge.putEvent(driver.cloud.eventbridge.events.find((e) => e.event.id === next.deliveries[0].eventId)!.event, { late: 'next-step' });
    const again = await driver.deliverHeldEvents(STACK);
    expect(again.deliveries.map((d) => d.handledBefore)).toEqual([true]);
  });

  test('late by a delay: the step waits for it', async () => {
    await driver.deploy(stack({ version: 'v1' }));
    const step = await driver.deploy(stack({ version: 'v2', extra: 'Fails' }), { fail: ['Fails'], events: { late: 300 } });
    expect(step.deliveries.map((d) => [d.late, d.handled])).toEqual([[true, true]]);
    expect(step.deliveries[0].deliveredAt).toBeGreaterThan(step.events[step.events.length - 1].at);
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

describe('IAM', () => {
  const E1 = 'arn:aws:cloudfront::123456789012:distribution/E1';
  const STACK_ARN = `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK}/*`;
  const allowE1 = { Effect: 'Allow', Action: 'cloudfront:CreateInvalidation', Resource: E1 };
  const allowE2 = { Effect: 'Allow', Action: 'cloudfront:CreateInvalidation', Resource: 'arn:aws:cloudfront::123456789012:distribution/E2' };
  interface Seen { readonly phase: string; readonly status?: string; readonly e1: boolean; readonly events: boolean }

  /** A driver whose Custom::Probe resources note what the handler's IAM allows when CloudFormation reaches them. */
  async function probing(iamPropagationMs?: number): Promise<Seen[]> {
    await driver.close();
    const seen: Seen[] = [];
    driver = await LifecycleDriver.start({
      iamPropagationMs,
      customResources: {
        'Custom::Probe': async (call) => {
          seen.push({
            phase: call.phase,
            status: driver.stackStatus(STACK),
            e1: driver.cloud.authorizer('cloudfront:CreateInvalidation', E1),
            events: driver.cloud.authorizer('cloudformation:DescribeStackEvents', driver.stackId(STACK)!),
          });
        },
      },
    });
    return seen;
  }
  const probe = (version: string, dependsOn: string[]) => ({ Probe: { Type: 'Custom::Probe', Properties: { ServiceToken: 'x', Trigger: version }, DependsOn: dependsOn } });
  const extraPolicy = {
    ExtraPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: { PolicyName: 'extra', Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'cloudformation:DescribeStackEvents', Resource: STACK_ARN }] } },
    },
  };

  test('takes effect in CloudFormation\'s order: as the update applies a policy, as the rollback puts it back, and as the rollback\'s cleanup deletes the one it created', async () => {
    const seen = await probing();
    await driver.deploy(stack({ version: 'v1', statements: [allowE1], more: probe('v1', ['HandlerPolicy']) }));
    const failing = stack({ version: 'v2', extra: 'Tail', statements: [allowE2], more: { ...extraPolicy, ...probe('v2', ['HandlerPolicy', 'ExtraPolicy']) } });
    const step = await driver.deploy(failing, { fail: ['Tail'] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(seen).toEqual([
      { phase: 'deploy', status: 'CREATE_IN_PROGRESS', e1: true, events: false },
      // The update's policies, changed and new, apply before what depends on them.
      { phase: 'deploy', status: 'UPDATE_IN_PROGRESS', e1: false, events: true },
      // The rollback put the changed policy back first; the new one lasts until the cleanup.
      { phase: 'rollback', status: 'UPDATE_ROLLBACK_IN_PROGRESS', e1: true, events: true },
    ]);
    expect(driver.cloud.authorizer('cloudformation:DescribeStackEvents', driver.stackId(STACK)!)).toBe(false);
    const history = [...driver.stackEvents(STACK)].reverse();
    const cleanup = history.findIndex((e) => e.LogicalResourceId === STACK && e.ResourceStatus === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const deleted = history.findIndex((e) => e.LogicalResourceId === 'ExtraPolicy' && e.ResourceStatus === 'DELETE_COMPLETE');
    expect(cleanup).toBeGreaterThan(0);
    expect(deleted).toBeGreaterThan(cleanup);
  });

  test('takes effect late: a change reaches the handlers iamPropagationMs after CloudFormation applied it', async () => {
    const seen = await probing(300);
    await driver.deploy(stack({ version: 'v1', statements: [allowE1], more: probe('v1', ['HandlerPolicy']) }));
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', E1)).toBe(false);
    await new Promise((wake) => setTimeout(wake, 350));
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', E1)).toBe(true);
    await driver.deploy(stack({ version: 'v2', statements: [allowE2], more: probe('v2', ['HandlerPolicy']) }));
    // Just applied, neither the grant nor the revocation is seen yet.
    expect(seen.map((s) => [s.status, s.e1])).toEqual([['CREATE_IN_PROGRESS', false], ['UPDATE_IN_PROGRESS', true]]);
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', E1)).toBe(true);
    await new Promise((wake) => setTimeout(wake, 350));
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', E1)).toBe(false);
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', 'arn:aws:cloudfront::123456789012:distribution/E2')).toBe(true);
  });
});

describe('resource types', () => {
  test('a customer managed policy attached by its Roles grants like an inline one; a template that changes a logical id\'s type is refused', async () => {
    const managed = (statement: unknown) => ({
      HandlerPolicy: { Type: 'AWS::IAM::ManagedPolicy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [statement] } } },
    });
    const allow = (id: string) => ({ Effect: 'Allow', Action: 'cloudfront:CreateInvalidation', Resource: `arn:aws:cloudfront::123456789012:distribution/${id}` });
    const e1 = 'arn:aws:cloudfront::123456789012:distribution/E1';
    await driver.deploy(stack({ version: 'v1', statements: [allow('E1')] }));
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', e1)).toBe(true);
    const before = driver.stackEvents(STACK).length;
    // The same logical id, now a managed policy: CloudFormation refuses the change set, and nothing happens.
    await expect(driver.deploy(stack({ version: 'v2', more: managed(allow('E2')) })))
      .rejects.toThrow('Update of resource type is not permitted. The new template modifies resource type of the following resources: [HandlerPolicy]');
    expect(driver.stackEvents(STACK).length).toBe(before);
    expect(driver.stackStatus(STACK)).toBe('CREATE_COMPLETE');
    // Under a new logical id it is a new resource, and the old policy goes in the cleanup.
    await driver.deploy(stack({ version: 'v2', more: { NewPolicy: managed(allow('E2')).HandlerPolicy } }));
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', e1)).toBe(false);
    expect(driver.cloud.authorizer('cloudfront:CreateInvalidation', 'arn:aws:cloudfront::123456789012:distribution/E2')).toBe(true);
  });
});

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
  const done = (step: StepReport, id: string) => step.changes.find((c) => c.logicalId === id && c.phase === 'deploy')?.at;

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
    driver = await LifecycleDriver.start({ cloud: { eventsPageSize: 5 } });
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
    expect(purge[0].ResourceType).toBe('Custom::CloudFrontInvalidation');
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
    resourceType: 'Custom::CloudFrontInvalidation',
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
    const content = [{ bucket: 'b', prefix: '', version: 'v2', distributions: ['E1'], phase: 'deploy' as const, at: 5 }];
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
    const revert = { bucket: 'b', prefix: '', version: 'v1', distributions: ['E1'], phase: 'rollback' as const, at: 5 };
    const rollback = { stackStatus: 'UPDATE_ROLLBACK_COMPLETE', status: 'UPDATE_ROLLBACK_IN_PROGRESS', eventId: 'x', stackName: 'S', stackId: 's', at: 1 };
    const held = new InvariantChecker(cloudfront);
    expect(held.check({ ...base, content: [revert], events: [rollback], heldDeliveries: 1 })).toEqual([]);
    expect(held.check({ ...base, invalidations: [invalidation(9)], deliveries: [delivery('e1')] })).toEqual([]);
    const lost = new InvariantChecker(cloudfront);
    expect(lost.check({ ...base, content: [revert], rollbackPending: true })).toEqual([]);
    expect(lost.awaiting).toBe(1);
    expect(lost.check(base)).toHaveLength(1);
  });
});
