/**
 * The Invalidation's custom resource, the handler's function, and the resources and logical ids the
 * library adds to a site stack, as aws-cdk-lib synthesizes them.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { siteStack } from '../support/synth';
import { invalidationResources, only, resourcesOf } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('resource', () => {
  test('is a Custom::CloudFrontInvalidation with the distribution, paths and settings, and a ServiceTimeout that fits the wait', () => {
    const { template } = siteStack({ invalidation: { paths: ['/index.html', '/assets/*'], timeout: Duration.minutes(10), waitForCompletion: true } });
    // The type spelled out, not RESOURCE_TYPE: this pins the name templates already deployed carry.
    template.hasResourceProperties('Custom::CloudFrontInvalidation', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloudFrontInvalidationProviderHandler'), 'Arn'] },
      DistributionId: { Ref: Match.stringLikeRegexp('^Distribution') },
      Paths: ['/index.html', '/assets/*'],
      WaitForCompletion: 'true',
      TimeoutSeconds: '600',
      FailOnTimeout: 'true',
      ServiceTimeout: '720',
      Trigger: [Match.stringLikeRegexp('^stack:[0-9a-f]{64}$')],
    });
    expect(JSON.stringify(only(invalidationResources(template))[1].Properties)).not.toMatch(/RollbackGuard|LogicalId/);
  });

  test('defaults to /*, no waiting and a 30-minute budget', () => {
    const { template } = siteStack();
    template.hasResourceProperties(RESOURCE_TYPE, {
      Paths: ['/*'],
      WaitForCompletion: 'false',
      TimeoutSeconds: '1800',
      ServiceTimeout: '1920',
    });
  });

  test('exposes the invalidation ids, CallerReference and warning as attributes', () => {
    const { stack, invalidation } = siteStack();
    const id = only(invalidationResources(Template.fromStack(stack)))[0];
    expect(stack.resolve(invalidation!.invalidationId)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationId'] });
    expect(stack.resolve(invalidation!.invalidationIds)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationIds'] });
    expect(stack.resolve(invalidation!.callerReference)).toEqual({ 'Fn::GetAtt': [id, 'CallerReference'] });
    expect(stack.resolve(invalidation!.warning)).toEqual({ 'Fn::GetAtt': [id, 'Warning'] });
  });

  test('runs on the newest Node.js runtime aws-cdk-lib knows (22 at the floor), arm64, and knows the stack it serves', () => {
    const { template } = siteStack();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      Environment: { Variables: { INVALIDATION_STACK_ID: { Ref: 'AWS::StackId' } } },
    });
  });
});

describe('distribution tenants', () => {
  test('pass the tenant id to the resource', () => {
    const { template } = siteStack({ invalidation: { distributionTenantId: 'dt_example1' } });
    template.hasResourceProperties(RESOURCE_TYPE, { DistributionTenantId: 'dt_example1' });
  });
});

describe('snapshot', () => {
  test('the resources an Invalidation adds to a site stack', () => {
    const { template } = siteStack();
    const resources = resourcesOf(template);
    const ours = Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith('Invalidate') || id.startsWith('CloudFrontInvalidationProvider')));
    // Asset hashes change with every build of the handler; the shape must not.
    expect(JSON.parse(JSON.stringify(ours).replace(/[0-9a-f]{64}(\.zip)?/g, '<hash>$1'))).toMatchSnapshot();
  });

  test('a logical id the library has used keeps its resource type: CloudFormation refuses an update that changes one', () => {
    // The library's resources in a site stack as released before its policies became managed ones.
    const released: Record<string, string> = {
      CloudFrontInvalidationProviderAnchorE9EB0872: 'AWS::CloudFormation::WaitConditionHandle',
      CloudFrontInvalidationProviderDeadLetters67E97B4D: 'AWS::SQS::Queue',
      CloudFrontInvalidationProviderDeadLettersPolicyFE5BA7BB: 'AWS::SQS::QueuePolicy',
      CloudFrontInvalidationProviderHandlerCDA15010: 'AWS::Lambda::Function',
      CloudFrontInvalidationProviderLogsF93B5F75: 'AWS::Logs::LogGroup',
      CloudFrontInvalidationProviderPolicy199468EE: 'AWS::IAM::Policy',
      CloudFrontInvalidationProviderRoleDefaultPolicy8AB8FEFB: 'AWS::IAM::Policy',
      CloudFrontInvalidationProviderRoleE710B701: 'AWS::IAM::Role',
      CloudFrontInvalidationProviderRollbackPurge32B25276: 'AWS::Events::Rule',
      Invalidate3B6DDF08: 'Custom::CloudFrontInvalidation',
    };
    const resources = resourcesOf(siteStack().template);
    const changed = Object.entries(released).filter(([id, type]) => resources[id] !== undefined && resources[id].Type !== type);
    expect(changed).toEqual([]);
    // The anchor, queue, function, logs, role, rule and Invalidation are still there, under the same ids.
    expect(Object.keys(released).filter((id) => resources[id] !== undefined)).toHaveLength(8);
  });
});
