/**
 * The resource types the lifecycle driver plays, by CloudFormation type; any other type is
 * `otherResource`, which only exists.
 */
import { RESOURCE_TYPE } from '../../../src/shared/contract';
import { NESTED_STACK_TYPE } from '../stack-state';
import { bucketDeployment } from './bucket-deployment';
import { distribution, distributionTenant } from './cloudfront';
import { eventsRule } from './events-rule';
import { iamPolicy } from './iam-policy';
import { iamRole } from './iam-role';
import { invalidation } from './invalidation';
import { lambdaFunction } from './lambda-function';
import { lambdaPermission } from './lambda-permission';
import { lambdaVersion } from './lambda-version';
import { logGroup } from './log-group';
import { nestedStack } from './nested-stack';
import { otherResource } from './other';
import type { ResourceType } from './resource-type';
import { s3Bucket } from './s3-bucket';
import { sqsQueue } from './sqs-queue';
import { sqsQueuePolicy } from './sqs-queue-policy';
import { ssmParameter } from './ssm-parameter';
import { waitConditionHandle } from './wait-condition-handle';

/** The resource types the driver has something particular for, by CloudFormation type. */
export const RESOURCE_TYPES: Readonly<Record<string, ResourceType>> = {
  [RESOURCE_TYPE]: invalidation,
  [NESTED_STACK_TYPE]: nestedStack,
  'AWS::CloudFront::Distribution': distribution,
  'AWS::CloudFront::DistributionTenant': distributionTenant,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::IAM::Role': iamRole,
  'AWS::IAM::Policy': iamPolicy,
  'AWS::IAM::ManagedPolicy': iamPolicy,
  'AWS::Logs::LogGroup': logGroup,
  'AWS::SSM::Parameter': ssmParameter,
  'AWS::Events::Rule': eventsRule,
  'AWS::SQS::Queue': sqsQueue,
  'AWS::SQS::QueuePolicy': sqsQueuePolicy,
  'AWS::CloudFormation::WaitConditionHandle': waitConditionHandle,
  'Custom::CDKBucketDeployment': bucketDeployment,
};

/** How the driver plays a resource of the type. */
export function resourceType(type: string): ResourceType {
  return RESOURCE_TYPES[type] ?? otherResource;
}
