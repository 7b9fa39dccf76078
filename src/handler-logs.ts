/**
 * The handler's log group, and its settings (`logRetention`, `logRemovalPolicy`,
 * `logEncryptionKey`).
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InvalidationHandlerSettings } from './handler-settings';

/** The handler's log group, kept for a year and when it leaves the stack, until settings say otherwise. */
export function createLogGroup(scope: Construct): logs.LogGroup {
  return new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
}

/** Applies the log settings among `settings` to the log group. */
export function applyLogSettings(logGroup: logs.LogGroup, settings: InvalidationHandlerSettings): void {
  if (settings.logRetention !== undefined) {
    (logGroup.node.defaultChild as logs.CfnLogGroup).retentionInDays = settings.logRetention === logs.RetentionDays.INFINITE
      ? undefined : settings.logRetention;
  }
  if (settings.logRemovalPolicy !== undefined) {
    logGroup.applyRemovalPolicy(settings.logRemovalPolicy);
  }
  if (settings.logEncryptionKey !== undefined) {
    encryptLogs(logGroup, settings.logEncryptionKey);
  }
}

function encryptLogs(logGroup: logs.LogGroup, key: kms.IKey): void {
  const stack = Stack.of(logGroup);
  (logGroup.node.defaultChild as logs.CfnLogGroup).kmsKeyId = key.keyArn;
  // A key of the app's own gets the grant CloudWatch Logs needs; an imported key's policy is the user's (docs/aws-services.md).
  const logsService = new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`);
  key.grantEncryptDecrypt(logsService);
  key.grant(logsService, 'kms:DescribeKey');
  logGroup.node.addDependency(key);
}
