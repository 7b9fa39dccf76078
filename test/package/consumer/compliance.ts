/**
 * The app with every stack on the README's compliance configuration of the handler (a KMS key for
 * its logs, a VPC, reserved concurrency, active tracing and a failure alarm), checked by cdk-nag's
 * NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 packs.
 */
import { App } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Invalidation } from 'cdk-cloudfront-invalidation';
import { acknowledge, addPacks } from './nag';
import { compliancePacks, defineApp } from './site';
import type { SiteStack } from './site';

function configure(stack: SiteStack): void {
  if (!stack.invalidation) {
    // A stack without an Invalidation has no handler to configure (synth would warn that the settings apply to nothing).
    return;
  }
  const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const alarms = new sns.Topic(stack, 'Alarms', { masterKey: key });
  Invalidation.configureHandler(stack, {
    logEncryptionKey: key,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    reservedConcurrentExecutions: 5,
    tracing: lambda.Tracing.ACTIVE,
    failureAlarm: true,
    failureAlarmActions: [new cw_actions.SnsAction(alarms)],
  });
  // The settings took: the handler runs in the VPC and has its alarm.
  const handler = Invalidation.handlerOf(stack);
  if (!(handler.function.node.defaultChild as lambda.CfnFunction).vpcConfig || !handler.failureAlarm) {
    throw new Error(`${stack.stackName}: the handler is not in the VPC or has no failure alarm`);
  }
  acknowledge(vpc, [
    ...compliancePacks('VPCFlowLogsEnabled', 'The example VPC keeps no flow logs.'),
    ...compliancePacks('VPCDefaultSecurityGroupClosed', 'The example VPC\'s default security group is left as EC2 makes it; nothing uses it.'),
    ...compliancePacks('VPCNoUnrestrictedRouteToIGW', 'The example VPC\'s public subnets hold the NAT gateway, which reaches the internet.'),
    ...compliancePacks('VPCSubnetAutoAssignPublicIpDisabled', 'The example VPC\'s public subnets hold the NAT gateway.'),
  ]);
}

const app = new App();
defineApp(app, configure);
addPacks(app, ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321']);
app.synth();
