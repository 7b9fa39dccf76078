/**
 * The example site as each deploy step of a sequence has it, synthesized once per distinct
 * configuration, and the resources of its template that a step makes fail.
 */
import * as path from 'path';
import { CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { DeployStep } from './steps';
import { InvalidationTrigger } from '../../src';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { logicalIdOf, SITE_DIR, synthSite } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';

const synthesized = new Map<string, SynthesizedStack>();

/** The example site for a step, synthesized once per distinct configuration. */
export function stackFor(step: DeployStep): SynthesizedStack {
  const key = JSON.stringify([
    step.site, step.invalidationId, step.trigger, step.waitForCompletion, step.recordPurge, step.failure,
    step.retainInvalidation, step.retainFiles, step.assets,
  ]);
  let stack = synthesized.get(key);
  if (!stack) {
    stack = synthSite({
      site: step.site,
      invalidationId: step.invalidationId,
      invalidation: {
        waitForCompletion: step.waitForCompletion,
        trigger: step.trigger === 'values' ? InvalidationTrigger.onChangeOf(step.site) : undefined,
      },
      recordPurge: step.recordPurge || step.failure === 'after-purge',
      extend: (s, parts) => {
        if (step.trigger === 'values') {
          parts.invalidation.executeAfter(parts.deployment);
        }
        if (step.failure === 'before-purge') {
          // A resource new in this deploy that the driver fails: after the files land, before the purge.
          new ssm.StringParameter(s, 'Version', { stringValue: step.site });
        }
        if (step.retainInvalidation) {
          // RemovalPolicy.RETAIN: DeletionPolicy and UpdateReplacePolicy Retain.
          cfnResourcesOf(parts.invalidation, RESOURCE_TYPE).forEach((r) => r.applyRemovalPolicy(RemovalPolicy.RETAIN));
        }
        if (step.retainFiles === false) {
          cfnResourcesOf(parts.deployment, 'Custom::CDKBucketDeployment').forEach((r) => r.addPropertyOverride('RetainOnDelete', false));
        }
        if (step.assets) {
          const assets = new s3deploy.BucketDeployment(s, 'Assets', {
            sources: [s3deploy.Source.asset(path.join(SITE_DIR, step.site))],
            destinationBucket: parts.bucket,
            destinationKeyPrefix: 'assets/',
            retainOnDelete: false,
          });
          parts.invalidation.executeAfter(assets);
        }
      },
    });
    synthesized.set(key, stack);
  }
  return stack;
}

/** The CloudFormation resources of a type under a construct. */
function cfnResourcesOf(scope: { node: { findAll(): readonly unknown[] } }, type: string): CfnResource[] {
  return scope.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c as never) && (c as CfnResource).cfnResourceType === type);
}

/** The logical ids of the resources a step's deploy fails (its `failure`), in the stack synthesized for it. */
export function failing(step: DeployStep, stack: SynthesizedStack): string[] {
  switch (step.failure) {
    case 'before-purge':
      return [logicalIdOf(stack, 'Version')];
    case 'after-purge':
      return [logicalIdOf(stack, 'LastPurge')];
    case 'in-content':
      return [bucketDeploymentOf(stack)];
    default:
      return [];
  }
}

/** The logical id of the site's BucketDeployment. */
export function bucketDeploymentOf(stack: SynthesizedStack): string {
  return Object.keys(stack.template.Resources).find((id) => stack.template.Resources[id].Type === 'Custom::CDKBucketDeployment')!;
}
