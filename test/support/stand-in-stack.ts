/**
 * The stack the lifecycle driver's own tests deploy: hand-made, shaped like the library's, with a
 * stand-in handler that only answers, so that what they test is the driver, as CloudFormation,
 * not the library.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import type { SynthesizedStack, Template } from '../driver/assembly';
import { freshOutdir } from '../driver/assembly';
import type { StepReport } from '../driver/reports';

/** The name of the stand-in stack. */
export const STAND_IN_STACK = 'DriverTest';

let codeDir: string | undefined;

/**
 * The folder of the stand-in handler's code, written on first use and removed after the test file.
 * The handler answers every request SUCCESS (a Create or Update FAILED when its properties ask it
 * to) and records nothing else.
 */
function standInCode(): string {
  if (codeDir === undefined) {
    codeDir = freshOutdir('driver-test-');
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
  }
  return codeDir;
}

/** What the stand-in stack holds besides its fixed resources. */
export interface Shape {
  /** The version of the content, and the Invalidation's trigger. */
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
  const dir = path.join(standInCode(), 'site', version);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), version);
  return dir;
}

/** An invalidation of the stand-in handler, which answers `newId` as its physical id if given. */
export function purgeResource(version: string, newId?: string, fail?: boolean): Template['Resources'][string] {
  return {
    Type: RESOURCE_TYPE,
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
export function deployment(version: string, props: Record<string, unknown> = {}): Template['Resources'][string] {
  return { Type: 'Custom::CDKBucketDeployment', Properties: { ServiceToken: 'x', DestinationBucketName: 'site', SourceObjectKeys: [version], ...props } };
}

/**
 * The stack STAND_IN_STACK, shaped like the library's: content, an anchor after it, the custom
 * resource, the stand-in handler, the rule and its DLQ.
 */
export function stack({ version, rulePaths = ['/*'], rule = true, permission = true, extra, statements, more, content = {}, purge = {} }: Shape): SynthesizedStack {
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
  const code = standInCode();
  const assetDirs = new Map([['handler.zip', code], ...['v1', 'v2', 'v3'].map((v): [string, string] => [v, siteFiles(v)])]);
  return { stackName: STAND_IN_STACK, template: { Resources: resources }, assemblyDir: code, assetDirs };
}

/** The stand-in stack's status changes in a step, in order. */
export const statuses = (step: StepReport) => step.events.filter((e) => e.stackName === STAND_IN_STACK).map((e) => e.status);
/** The input the stand-in stack's rule hands the handler. */
export type Purge = { rollbackPurge: { status: string; targets: Array<{ Paths: string[] }> } };
/** The rollback purges delivered in a step. */
export const purges = (step: StepReport) => step.deliveries.map((d) => (d.payload as Purge).rollbackPurge);

