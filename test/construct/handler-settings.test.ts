/**
 * The handler's settings (`Invalidation.configureHandler`) and its resources (`Invalidation.handlerOf`),
 * as synthesized by aws-cdk-lib.
 */
import { App, Duration, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Invalidation } from '../../src';
import type { InvalidationHandlerSettings } from '../../src';
import { ENV, importedDistribution, newApp, siteStack } from '../support/synth';
import { handlerFunctionOf, only } from '../support/template';

process.env.JSII_DEPRECATED = 'fail';

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

function executionStatements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
  const [policy] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => id.startsWith('CloudFrontInvalidationProviderExecutionPolicy'));
  return policy[1].Properties.PolicyDocument.Statement;
}

describe('runtime', () => {
  test('the newest nodejsNN.x runtime aws-cdk-lib knows, whichever that is', () => {
    const newer = new lambda.Runtime('nodejs98.x', lambda.RuntimeFamily.NODEJS);
    try {
      expect(handlerFunctionOf(Template.fromStack(stackWith().stack)).Properties.Runtime).toBe('nodejs98.x');
    } finally {
      lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
    }
    expect(handlerFunctionOf(Template.fromStack(stackWith().stack)).Properties.Runtime).toBe('nodejs22.x');
  });

  test('a runtime the user sets, before or after the first Invalidation', () => {
    for (const before of [true, false]) {
      const { stack } = stackWith({ runtime: lambda.Runtime.NODEJS_20_X, memorySize: 512 }, before);
      expect(handlerFunctionOf(Template.fromStack(stack)).Properties).toMatchObject({ Runtime: 'nodejs20.x', MemorySize: 512 });
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
    expect(handlerFunctionOf(Template.fromStack(stack)).Properties).toMatchObject({ ReservedConcurrentExecutions: 5, MemorySize: 1024 });
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
    expect(handlerFunctionOf(template).Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(executionStatements(template)).toContainEqual({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' });
    const [, policy] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([id]) => id.startsWith('CloudFrontInvalidationProviderExecutionPolicy'))!;
    expect(policy.Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })]);
  });

  test('off by default: no tracing config and no X-Ray permission', () => {
    const template = Template.fromStack(stackWith().stack);
    expect(handlerFunctionOf(template).Properties.TracingConfig).toBeUndefined();
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
    const fn = handlerFunctionOf(template);
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
    expect(handlerFunctionOf(template).Properties.VpcConfig).toEqual({
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
    const [, logGroup] = Object.entries(template.findResources('AWS::Logs::LogGroup'))[0];
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(logGroup.DependsOn).toContain(keyId);
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
    expect(stack.resolve(handler.deadLetterQueue.queueArn)).toEqual(handlerFunctionOf(template).Properties.DeadLetterConfig.TargetArn);
    expect(stack.resolve(handler.logGroup.logGroupName)).toEqual(handlerFunctionOf(template).Properties.LoggingConfig.LogGroup);
    expect(stack.resolve(handler.role.roleArn)).toEqual(handlerFunctionOf(template).Properties.Role);
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

describe('settings given again', () => {
  test('runtime, memory, concurrency and logs replace what they name; a setting that adds resources may be given once', () => {
    const { stack } = stackWith({ memorySize: 512, logRetention: logs.RetentionDays.ONE_WEEK });
    Invalidation.configureHandler(stack, { memorySize: 1024, logRetention: logs.RetentionDays.ONE_MONTH });
    const template = Template.fromStack(stack);
    expect(handlerFunctionOf(template).Properties.MemorySize).toBe(1024);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    Invalidation.configureHandler(stack, { vpc, tracing: lambda.Tracing.ACTIVE });
    Invalidation.configureHandler(stack, { vpc, tracing: lambda.Tracing.ACTIVE });
    expect(() => Invalidation.configureHandler(stack, { vpc: new ec2.Vpc(stack, 'Other') }))
      .toThrow(/Site: vpc is already set for the handler of stack Site; give logEncryptionKey, tracing, vpc, vpcSubnets, securityGroups, failureAlarm, failureAlarmActions once per stack/);
    expect(() => Invalidation.configureHandler(stack, { tracing: lambda.Tracing.DISABLED })).toThrow(/tracing is already set/);
  });

  test('given before the first Invalidation, the same rule holds', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    Invalidation.configureHandler(stack, { failureAlarm: true });
    expect(() => Invalidation.configureHandler(stack, { failureAlarm: false })).toThrow(/failureAlarm is already set/);
  });
});

describe('subnets the handler cannot use', () => {
  function inVpc(vpc: (stack: Stack) => ec2.IVpc, vpcSubnets?: ec2.SubnetSelection) {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: ENV });
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Purge', { distribution });
    Invalidation.configureHandler(stack, { vpc: vpc(stack), vpcSubnets });
    return stack;
  }
  const publicOnly = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
  const isolated = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });

  test('a VPC without private subnets with egress, by default: the error names the setting and the VPC', () => {
    expect(() => inVpc(publicOnly)).toThrow(/vpc \(its PRIVATE_WITH_EGRESS subnets, the default of vpcSubnets\) selects no subnets of VPC Site\/Vpc: .*give vpcSubnets/);
  });

  test('public subnets are refused: a function there has no route out', () => {
    expect(() => inVpc(publicOnly, { subnetType: ec2.SubnetType.PUBLIC })).toThrow(/vpcSubnets selects public subnets of VPC Site\/Vpc/);
  });

  test('isolated subnets are allowed with a warning', () => {
    const stack = inVpc(isolated, { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('vpcSubnets selects isolated subnets of VPC Site/Vpc'));
  });

  test('a logRetention that is no retention period is refused', () => {
    expect(() => stackWith({ logRetention: 2 as logs.RetentionDays })).toThrow(/logRetention is 2, which is not one of CloudWatch Logs' retention periods/);
  });
});

describe('grants to the handler', () => {
  test('what is granted to handlerOf\'s function or role lands in the library\'s managed policy, never inline', () => {
    const { stack } = stackWith();
    const handler = Invalidation.handlerOf(stack);
    const reports = new s3.Bucket(stack, 'Reports');
    const archive = new s3.Bucket(stack, 'Archive');
    reports.grantRead(handler.function);
    archive.grantRead(handler.role);
    const template = Template.fromStack(stack);
    expect(template.findResources('AWS::IAM::Policy')).toEqual({});
    const [, permissions] = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([id]) => id.startsWith('CloudFrontInvalidationProviderPermissions'))!;
    const text = JSON.stringify(permissions.Properties.PolicyDocument);
    for (const bucket of [reports, archive]) {
      expect(text).toContain(JSON.stringify(stack.resolve(bucket.bucketArn)));
    }
  });
});

test('settings for a stack that never gets an Invalidation: a warning says they apply to nothing', () => {
  const app = new App();
  const stack = new Stack(app, 'Empty', { env: ENV });
  Invalidation.configureHandler(stack, { memorySize: 512 });
  Annotations.fromStack(stack).hasWarning('/Empty', Match.stringLikeRegexp('its settings apply to nothing'));
  const used = stackWith({ memorySize: 512 }, true).stack;
  expect(Annotations.fromStack(used).findWarning('*', Match.stringLikeRegexp('apply to nothing'))).toEqual([]);
});

describe('handler settings', () => {
  function logGroup(template: Template) {
    return only(template.findResources('AWS::Logs::LogGroup'))[1];
  }

  test('by default the log group keeps a year of logs and stays after the stack is deleted', () => {
    const group = logGroup(siteStack().template);
    expect([group.Properties.RetentionInDays, group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual([365, 'Retain', 'Retain']);
  });

  test('configureHandler before the first Invalidation applies when the handler is created', () => {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    Invalidation.configureHandler(stack, { logRetention: logs.RetentionDays.ONE_WEEK });
    Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY });
    expect(stack.node.tryFindChild('CloudFrontInvalidationProvider')).toBeUndefined();
    new Invalidation(stack, 'Purge', { distribution: importedDistribution(stack, 'E1') });
    const group = logGroup(Template.fromStack(stack));
    expect([group.Properties.RetentionInDays, group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual([7, 'Delete', 'Delete']);
  });

  test('configureHandler after the first Invalidation changes the existing log group, from any construct of the stack', () => {
    const { template } = siteStack({
      extra: (_stack, distribution) => {
        Invalidation.configureHandler(distribution, { logRetention: logs.RetentionDays.INFINITE, logRemovalPolicy: RemovalPolicy.DESTROY });
      },
    });
    const group = logGroup(template);
    expect([group.Properties?.RetentionInDays, group.DeletionPolicy]).toEqual([undefined, 'Delete']);
  });

  test('configureHandler refuses RemovalPolicy.SNAPSHOT, naming the setting', () => {
    const stack = new Stack(newApp(), 'Site');
    expect(() => Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(/logRemovalPolicy is RemovalPolicy.SNAPSHOT/);
  });

  test('a nested stack has a handler, and settings, of its own', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Nested');
    Invalidation.configureHandler(nested, { logRetention: logs.RetentionDays.ONE_DAY });
    new Invalidation(parent, 'Purge', { distribution: importedDistribution(parent, 'E1') });
    new Invalidation(nested, 'Purge', { distribution: importedDistribution(nested, 'E2') });
    expect(logGroup(Template.fromStack(parent)).Properties.RetentionInDays).toBe(365);
    expect(logGroup(Template.fromStack(nested)).Properties.RetentionInDays).toBe(1);
  });
});