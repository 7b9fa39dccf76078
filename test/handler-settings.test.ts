/**
 * The handler's settings (`Invalidation.configureHandler`) and its resources (`Invalidation.handlerOf`),
 * as synthesized by aws-cdk-lib.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Invalidation } from '../src';
import type { InvalidationHandlerSettings } from '../src';

process.env.JSII_DEPRECATED = 'fail';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function stackWith(settings?: InvalidationHandlerSettings, before = false) {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: ENV });
  const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
  if (settings && before) {
    Invalidation.configureHandler(stack, settings);
  }
  new Invalidation(stack, 'Purge', { distribution });
  if (settings && !before) {
    Invalidation.configureHandler(stack, settings);
  }
  return { app, stack };
}

function handlerOf(template: Template): Record<string, any> {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('CloudFrontInvalidationProvider'));
  return fn[1];
}

function executionStatements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
  const [policy] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => id.startsWith('CloudFrontInvalidationProviderExecutionPolicy'));
  return policy[1].Properties.PolicyDocument.Statement;
}

describe('runtime', () => {
  test('the newest nodejsNN.x runtime aws-cdk-lib knows, whichever that is', () => {
    const newer = new lambda.Runtime('nodejs98.x', lambda.RuntimeFamily.NODEJS);
    try {
      expect(handlerOf(Template.fromStack(stackWith().stack)).Properties.Runtime).toBe('nodejs98.x');
    } finally {
      lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
    }
    expect(handlerOf(Template.fromStack(stackWith().stack)).Properties.Runtime).toBe('nodejs22.x');
  });

  test('a runtime the user sets, before or after the first Invalidation', () => {
    for (const before of [true, false]) {
      const { stack } = stackWith({ runtime: lambda.Runtime.NODEJS_20_X, memorySize: 512 }, before);
      expect(handlerOf(Template.fromStack(stack)).Properties).toMatchObject({ Runtime: 'nodejs20.x', MemorySize: 512 });
    }
  });

  test('refuses a runtime the handler cannot run on, naming it', () => {
    expect(() => stackWith({ runtime: lambda.Runtime.PYTHON_3_12 })).toThrow(/runtime is python3\.12, but the handler needs a Node\.js runtime, nodejs20\.x or newer/);
    expect(() => stackWith({ runtime: lambda.Runtime.NODEJS_18_X })).toThrow(/runtime is nodejs18\.x/);
    expect(() => stackWith({ runtime: lambda.Runtime.NODEJS_LATEST })).toThrow(/runtime is nodejs18\.x/);
  });
});

describe('memory and concurrency', () => {
  test('reserved concurrency and memory land on the function', () => {
    const { stack } = stackWith({ reservedConcurrentExecutions: 5, memorySize: 1024 });
    expect(handlerOf(Template.fromStack(stack)).Properties).toMatchObject({ ReservedConcurrentExecutions: 5, MemorySize: 1024 });
  });

  test.each([
    [{ memorySize: 64 }, /memorySize is 64, but must be a whole number of MiB from 128 to 10240/],
    [{ memorySize: 300.5 }, /memorySize is 300\.5/],
    [{ reservedConcurrentExecutions: 0 }, /reservedConcurrentExecutions is 0, but must be a whole number from 1/],
  ])('refuses %j', (settings, error) => {
    expect(() => stackWith(settings as InvalidationHandlerSettings)).toThrow(error);
  });
});

describe('tracing', () => {
  test('ACTIVE sets the mode and lets the role send traces; the execution policy acknowledges X-Ray\'s * with a reason', () => {
    const template = Template.fromStack(stackWith({ tracing: lambda.Tracing.ACTIVE }).stack);
    expect(handlerOf(template).Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(executionStatements(template)).toContainEqual({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' });
    const [, policy] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([id]) => id.startsWith('CloudFrontInvalidationProviderExecutionPolicy'))!;
    expect(policy.Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })]);
  });

  test('off by default: no tracing config and no X-Ray permission', () => {
    const template = Template.fromStack(stackWith().stack);
    expect(handlerOf(template).Properties.TracingConfig).toBeUndefined();
    expect(JSON.stringify(executionStatements(template))).not.toContain('xray');
  });
});

describe('VPC', () => {
  function vpcStack(settings: Partial<InvalidationHandlerSettings> = {}) {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Purge', { distribution });
    Invalidation.configureHandler(stack, { vpc, ...settings });
    return { stack, vpc, template: Template.fromStack(stack) };
  }

  test('runs in the private subnets with egress, with a security group of its own, after their routes to the NAT exist', () => {
    const { stack, vpc, template } = vpcStack();
    const fn = handlerOf(template);
    const subnets = vpc.privateSubnets.map((s) => stack.resolve(s.subnetId));
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(subnets);
    const [groupId, group] = Object.entries(template.findResources('AWS::EC2::SecurityGroup'))[0];
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [groupId, 'GroupId'] }]);
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(group.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
    expect(fn.DependsOn).toEqual(expect.arrayContaining(Object.keys(template.findResources('AWS::EC2::Route')).filter((id) => id.includes('Private'))));
    expect(executionStatements(template)).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['ec2:CreateNetworkInterface']), Resource: '*' }));
  });

  test('subnets and security groups the user chooses', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const group = new ec2.SecurityGroup(stack, 'Mine', { vpc });
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
    Invalidation.configureHandler(stack, { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[1]] }, securityGroups: [group] });
    new Invalidation(stack, 'Purge', { distribution });
    const template = Template.fromStack(stack);
    expect(handlerOf(template).Properties.VpcConfig).toEqual({
      SubnetIds: [stack.resolve(vpc.privateSubnets[1].subnetId)],
      SecurityGroupIds: [stack.resolve(group.securityGroupId)],
    });
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroup'))).toHaveLength(1);
  });

  test('refuses subnets or security groups without a VPC', () => {
    expect(() => stackWith({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).toThrow(/vpcSubnets is given without vpc/);
  });
});

describe('log encryption', () => {
  test('a key of the app encrypts the log group, and its policy lets CloudWatch Logs of the region use it', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Purge', { distribution });
    Invalidation.configureHandler(stack, { logEncryptionKey: key, logRemovalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    const [, logs] = Object.entries(template.findResources('AWS::Logs::LogGroup'))[0];
    expect(logs.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(logs.DependsOn).toContain(keyId);
    const statements = template.findResources('AWS::KMS::Key')[keyId].Properties.KeyPolicy.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Principal: { Service: { 'Fn::Join': ['', ['logs.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
      Action: expect.arrayContaining(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*']),
    }));
  });
});

describe('handlerOf and the failure alarm', () => {
  test('returns the stack\'s function, role, log group and dead-letter queue; no alarm unless asked', () => {
    const { stack } = stackWith();
    const handler = Invalidation.handlerOf(stack);
    const template = Template.fromStack(stack);
    expect(stack.resolve(handler.function.functionArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CloudFrontInvalidationProviderHandler/), 'Arn'] });
    expect(stack.resolve(handler.deadLetterQueue.queueArn)).toEqual(handlerOf(template).Properties.DeadLetterConfig.TargetArn);
    expect(stack.resolve(handler.logGroup.logGroupName)).toEqual(handlerOf(template).Properties.LoggingConfig.LogGroup);
    expect(stack.resolve(handler.role.roleArn)).toEqual(handlerOf(template).Properties.Role);
    expect(handler.failureAlarm).toBeUndefined();
    expect(template.findResources('AWS::CloudWatch::Alarm')).toEqual({});
  });

  test('failureAlarmActions: an alarm on a message in the dead-letter queue, with the actions, reachable from handlerOf', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    const topic = new sns.Topic(stack, 'Pager');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
    Invalidation.configureHandler(stack, { failureAlarmActions: [new cwActions.SnsAction(topic)] });
    new Invalidation(stack, 'Purge', { distribution });
    const handler = Invalidation.handlerOf(stack);
    expect(handler.failureAlarm).toBeDefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(handler.deadLetterQueue.queueName) }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [stack.resolve(topic.topicArn)],
    });
    // Asked for twice, one alarm.
    Invalidation.configureHandler(stack, { failureAlarm: true });
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))).toHaveLength(1);
  });

  test('failureAlarm alone adds an alarm without actions, to which actions can be added later', () => {
    const { stack } = stackWith({ failureAlarm: true });
    const alarm = Invalidation.handlerOf(stack).failureAlarm as cloudwatch.Alarm;
    alarm.addAlarmAction(new cwActions.SnsAction(new sns.Topic(stack, 'Later')));
    expect(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).not.toEqual({});
    expect(alarm.alarmArn).toBeDefined();
    expect(Duration.minutes(5).toSeconds()).toBe(Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))[0].Properties.Period);
  });

  test('a stack without an Invalidation has no handler: handlerOf says so', () => {
    const stack = new Stack(new App(), 'Empty');
    expect(() => Invalidation.handlerOf(stack)).toThrow(/stack Empty has no Invalidation, so it has no handler/);
  });
});
