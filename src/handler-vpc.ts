/**
 * The handler in a VPC (the `vpc`, `vpcSubnets` and `securityGroups` settings): its subnets,
 * security groups, and the network interface permissions Lambda needs.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { HandlerGrants } from './handler-permissions';
import type { InvalidationHandlerSettings } from './handler-settings';
import { addWarning } from './notes';

/**
 * Runs `handlerFunction` in the VPC of `settings`, with its security groups or one of the library's (a
 * child `SecurityGroup` of `scope`, made once), and grants the EC2 actions Lambda needs there.
 */
export function placeInVpc(scope: Construct, handlerFunction: lambda.Function, grants: HandlerGrants, settings: InvalidationHandlerSettings): void {
  const vpc = settings.vpc!;
  const groups = settings.securityGroups ?? [scope.node.tryFindChild('SecurityGroup') as ec2.SecurityGroup | undefined
    ?? new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc,
      description: 'The CloudFront invalidation handler: HTTPS out to the AWS APIs, nothing in',
      allowAllOutbound: true,
    })];
  const subnets = subnetsFor(scope, vpc, settings.vpcSubnets);
  (handlerFunction.node.defaultChild as lambda.CfnFunction).vpcConfig = {
    subnetIds: subnets.subnetIds,
    securityGroupIds: groups.map((g) => g.securityGroupId),
  };
  // Lambda creates the function's network interfaces with its role, and checks that it may when it creates the function.
  handlerFunction.node.addDependency(subnets.internetConnectivityEstablished);
  grants.grantOnAnyResource('vpc', ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
    'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
  'Lambda manages the network interfaces of a function in a VPC with the function\'s role; these EC2 actions are those of '
    + 'AWS\'s AWSLambdaVPCAccessExecutionRole, which grants them on *.');
}

/** The subnets the handler runs in: never public ones, where a function has no route out (docs/aws-services.md, "Lambda"). */
function subnetsFor(scope: Construct, vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined): ec2.SelectedSubnets {
  const what = selection ? 'vpcSubnets' : 'vpc (its PRIVATE_WITH_EGRESS subnets, the default of vpcSubnets)';
  let subnets: ec2.SelectedSubnets;
  try {
    subnets = vpc.selectSubnets(selection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  } catch (e) {
    throw new Error(`${scope.node.path}: ${what} selects no subnets of VPC ${vpc.node.path}: ${(e as Error).message}. `
      + 'The handler needs subnets with a route to the AWS APIs: give vpcSubnets');
  }
  if (subnets.subnetIds.length === 0) {
    throw new Error(`${scope.node.path}: ${what} selects no subnets of VPC ${vpc.node.path}; give vpcSubnets`);
  }
  const isolated = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  if (subnets.subnetIds.every((id) => isolated.has(id))) {
    addWarning(scope, 'cdk-cloudfront-invalidation:isolatedSubnets', 'vpcSubnets selects isolated subnets of VPC '
      + `${vpc.node.path}: the handler reaches CloudFront's API only if something else routes them out (docs/aws-services.md, "Lambda").`);
  }
  if (subnets.hasPublic) {
    throw new Error(`${scope.node.path}: vpcSubnets selects public subnets of VPC ${vpc.node.path}, where a Lambda function gets no `
      + 'public address and so no route to CloudFront\'s API; select private subnets with a NAT gateway (PRIVATE_WITH_EGRESS)');
  }
  return subnets;
}
