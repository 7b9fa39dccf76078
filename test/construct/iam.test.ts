/**
 * The handler's permissions: customer managed policies, what they grant and on what, and the order
 * in which CloudFormation creates them, the function and the Invalidations.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Invalidation } from '../../src';
import { importedDistribution, siteStack } from '../support/synth';
import { anchorOf, byPrefix, deployOrder, handlerFunctionOf, invalidationResources, only, policyIdOf, providerFunctions, resourcesOf } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('IAM', () => {
  function statements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
    return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CloudFrontInvalidationProvider'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  }

  test('puts every permission of the handler in customer managed policies, none inline', () => {
    const { template } = siteStack();
    const handlerRole = (r: { Properties?: { Roles?: unknown } }) => JSON.stringify(r.Properties?.Roles ?? []).includes('CloudFrontInvalidationProvider');
    expect(Object.values(template.findResources('AWS::IAM::Policy')).filter(handlerRole)).toEqual([]);
    expect(Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(handlerRole)).toHaveLength(2);
    const [, role] = byPrefix(template, 'CloudFrontInvalidationProviderRole');
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the function waits for the policy that lets it write its logs and dead letters (Lambda checks the queue when it creates it)', () => {
    const { template } = siteStack();
    const [executionId, execution] = byPrefix(template, 'CloudFrontInvalidationProviderExecutionPolicy');
    const fn = handlerFunctionOf(template);
    expect(fn.DependsOn).toContain(executionId);
    expect(JSON.stringify(execution.Properties.PolicyDocument)).toContain('sqs:SendMessage');
    expect(JSON.stringify(execution.Properties.PolicyDocument)).toContain('logs:PutLogEvents');
  });

  test('grants the CloudFront invalidation actions on the distributions and tenants of the stack\'s account, whatever the template names, never on *', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const other = importedDistribution(stack, 'EIMPORTED');
        new Invalidation(stack, 'Second', { distribution: other });
        new Invalidation(stack, 'Third', { distribution: other, paths: ['/x'], distributionTenantId: 'dt_1' });
      },
    });
    const cloudfrontStatements = statements(template).filter((s) => JSON.stringify(s.Action).includes('cloudfront:'));
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cloudfront::123456789012:${resource}`]] });
    expect(cloudfrontStatements).toEqual([{
      Action: [
        'cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations',
        'cloudfront:CreateInvalidationForDistributionTenant', 'cloudfront:GetInvalidationForDistributionTenant', 'cloudfront:ListInvalidationsForDistributionTenant',
      ],
      Effect: 'Allow',
      Resource: [arn('distribution/*'), arn('distribution-tenant/*')],
    }]);
    expect(JSON.stringify(statements(template))).not.toContain('"*"');
    // The same policy with or without Invalidations of other distributions: a rollback never takes a grant away.
    const plain = siteStack().template;
    expect(statements(plain).filter((s) => JSON.stringify(s.Action).includes('cloudfront:'))).toEqual(cloudfrontStatements);
  });

  test('lets the handler start itself again and read only its own stack and its events', () => {
    const { template } = siteStack();
    const fnId = providerFunctions(template)[0];
    expect(statements(template)).toEqual(expect.arrayContaining([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } },
      {
        Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:DescribeStackEvents'],
        Effect: 'Allow',
        Resource: { Ref: 'AWS::StackId' },
      },
    ]));
  });

  test('lets the handler, and only it, write to its dead-letter queue', () => {
    const { template } = siteStack();
    const [queueId] = only(template.findResources('AWS::SQS::Queue'));
    expect(statements(template)).toEqual(expect.arrayContaining([
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ]));
  });

  test('the invalidation waits for the handler\'s policy, and the function does not (no cycle)', () => {
    const { template } = siteStack();
    const policyId = policyIdOf(template);
    const [, invalidation] = only(invalidationResources(template));
    expect(invalidation.DependsOn).toContain(policyId);
    const fn = handlerFunctionOf(template);
    expect(fn.DependsOn ?? []).not.toContain(policyId);
  });

  test('a permissions boundary on the stack\'s roles makes no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const boundary = new iam.ManagedPolicy(stack, 'Boundary', { statements: [new iam.PolicyStatement({ actions: ['s3:*', 'cloudfront:*'], resources: ['*'] })] });
        iam.PermissionsBoundary.of(stack).apply(boundary);
      },
    });
    const [boundaryId] = byPrefix(template, 'Boundary');
    template.hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: { Ref: boundaryId } });
    expect(anchorOf(template)[1].DependsOn).toContain(boundaryId);
    deployOrder(resourcesOf(template));
  });
});
