/**
 * When an Invalidation runs in a deploy: the anchor that waits for the rest of the stack, and the
 * order each trigger and executeAfter give it.
 */
import { CfnCondition, CfnResource, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationTrigger } from '../../src';
import { CLI_CONTEXT, ENV, importedDistribution, newApp, siteStack } from '../support/synth';
import { anchorOf, byPrefix, deployOrder, invalidationResources, policyIdOf, resourcesOf, triggerOf } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('anchor', () => {
  test('depends on every other resource of the stack, leaving out the library\'s machinery and CDK metadata', () => {
    const { template } = siteStack({ app: newApp({ context: CLI_CONTEXT }) });
    const resources = resourcesOf(template);
    const [anchorId, anchor] = anchorOf(template);
    const library = (id: string) => /^Site\/(Invalidate|CloudFrontInvalidationProvider)\//.test(String(resources[id].Metadata?.['aws:cdk:path']));
    const expected = Object.keys(resources).filter((id) => !library(id) && resources[id].Type !== 'AWS::CDK::Metadata');
    expect(Object.values(resources).some((r) => r.Type === 'AWS::CDK::Metadata')).toBe(true);
    expect(expected.some((id) => id.startsWith('DeployCustomResource'))).toBe(true);
    expect(anchor.DependsOn).toEqual([...expected].sort());
    expect(Object.keys(anchor)).toEqual(expect.not.arrayContaining(['Properties']));
    expect(library(anchorId)).toBe(true);
  });

  test('leaves out what depends on an invalidation, directly or not, so there is no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const invalidation = stack.node.findChild('Invalidate') as Invalidation;
        const last = new ssm.StringParameter(stack, 'LastInvalidation', { stringValue: invalidation.invalidationId });
        new ssm.StringParameter(stack, 'AfterLast', { stringValue: 'x' }).node.addDependency(last);
        new ssm.StringParameter(stack, 'Unrelated', { stringValue: 'y' });
      },
    });
    const [, anchor] = anchorOf(template);
    const ids = (prefix: string) => byPrefix(template, prefix)[0];
    expect(anchor.DependsOn).not.toContain(ids('LastInvalidation'));
    expect(anchor.DependsOn).not.toContain(ids('AfterLast'));
    expect(anchor.DependsOn).toContain(ids('Unrelated'));
    deployOrder(resourcesOf(template));
  });

  test('names resources with a Condition in a conditional Ref of its Metadata, not in DependsOn (refused when the condition is false); their changes fire it', () => {
    const withQueue = (retention: number) => siteStack({
      extra: (stack) => {
        const queue = new sqs.Queue(stack, 'Optional', { retentionPeriod: Duration.days(retention) });
        (queue.node.defaultChild as CfnResource).cfnOptions.condition = new CfnCondition(stack, 'Never', { expression: Fn.conditionEquals('a', 'b') });
      },
    }).template;
    const template = withQueue(4);
    const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue', { Condition: 'Never' }));
    expect(anchorOf(template)[1].DependsOn).not.toContain(queueId);
    expect(anchorOf(template)[1].DependsOn!.length).toBeGreaterThan(0);
    expect(anchorOf(template)[1].Metadata).toEqual({
      'cdk-cloudfront-invalidation:conditionalDependsOn': { [queueId]: { 'Fn::If': ['Never', { Ref: queueId }, { Ref: 'AWS::NoValue' }] } },
    });
    expect(anchorOf(siteStack().template)[1].Metadata).toBeUndefined();
    expect(triggerOf(withQueue(5))).not.toEqual(triggerOf(template));
  });

  test('has no DependsOn when the stack holds nothing else', () => {
    const stack = new Stack(newApp(), 'Bare', { env: ENV });
    new Invalidation(stack, 'Purge', { distribution: importedDistribution(stack, 'E1') });
    expect(anchorOf(Template.fromStack(stack))[1].DependsOn).toBeUndefined();
  });

  test('every Invalidation depends on the anchor and the policy, not on each other nor on the user\'s resources', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Second', { distribution, paths: ['/a'] });
        new Invalidation(stack, 'Third', { distribution, paths: ['/b'], trigger: InvalidationTrigger.onChangeOf('x') });
      },
    });
    const [anchorId] = anchorOf(template);
    for (const r of Object.values(invalidationResources(template))) {
      expect([...r.DependsOn].sort()).toEqual([anchorId, policyIdOf(template)].sort());
    }
  });
});

describe('ordering', () => {
  function dependsOnOf(template: Template, prefix = 'Invalidate') {
    return byPrefix(template, prefix)[1].DependsOn ?? [];
  }

  test('onChangeOf runs after the rest of the stack by default, so after the BucketDeployment\'s copy', () => {
    const { template } = siteStack({ invalidation: { trigger: InvalidationTrigger.onChangeOf('v1') } });
    const [anchorId, anchor] = anchorOf(template);
    expect(dependsOnOf(template)).toContain(anchorId);
    expect(anchor.DependsOn).toContain(byPrefix(template, 'DeployCustomResource')[0]);
  });

  test('onDeployment runs after the rest of the stack and after its deployments', () => {
    const { template } = siteStack({ extra: (stack, distribution, deployment) => new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) }) });
    expect(dependsOnOf(template, 'Purge')).toEqual(expect.arrayContaining([anchorOf(template)[0], byPrefix(template, 'DeployCustomResource')[0]]));
  });

  test('executeAfterStack: false runs after what the trigger follows only, plus executeAfter', () => {
    const { template } = siteStack({
      invalidation: { trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false },
      extra: (stack, distribution, deployment) => {
        new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment), executeAfterStack: false });
        (stack.node.findChild('Invalidate') as Invalidation).executeAfter(new s3.Bucket(stack, 'Later'));
      },
    });
    expect([...dependsOnOf(template)].sort()).toEqual([byPrefix(template, 'Later')[0], policyIdOf(template)].sort());
    const deploymentResources = Object.keys(resourcesOf(template)).filter((id) => /^Deploy(CustomResource|AwsCliLayer)/.test(id));
    expect([...dependsOnOf(template, 'Purge')].sort()).toEqual([...deploymentResources, policyIdOf(template)].sort());
  });

  test('executeAfterStack: false with onStackChange is an error naming the prop', () => {
    expect(() => siteStack({ invalidation: { executeAfterStack: false } })).toThrow(/Site\/Invalidate: executeAfterStack is false, but the onStackChange trigger/);
  });

  test('executeAfter adds to the order', () => {
    const { template } = siteStack({
      extra: (stack) => (stack.node.findChild('Invalidate') as Invalidation).executeAfter(new s3.Bucket(stack, 'Later')),
    });
    expect(dependsOnOf(template)).toContain(byPrefix(template, 'Later')[0]);
  });
});
