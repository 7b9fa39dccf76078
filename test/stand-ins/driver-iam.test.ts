/**
 * The lifecycle driver's IAM: policies that take effect in CloudFormation's order and late, and
 * resource types a template may not change. The stand-in stack of test/support/stand-in-stack.ts.
 */
import type { LifecycleDriver } from '../driver/driver';
import { lifecycleDriverPerTest } from '../support/deploys';
import { STAND_IN_STACK as STACK, stack } from '../support/stand-in-stack';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started));
beforeEach(() => start());

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
    await start({
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
