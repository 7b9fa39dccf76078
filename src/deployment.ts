import { CfnResource, CustomResource } from 'aws-cdk-lib';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';

/** The custom resource that copies a BucketDeployment's files; `caller` names the API for errors. */
export function bucketDeploymentResource(deployment: s3deploy.BucketDeployment, caller: string): CfnResource {
  const custom = deployment.node.children.find((c: IConstruct): c is CustomResource => c instanceof CustomResource);
  const cfn = custom?.node.defaultChild;
  if (!cfn || !CfnResource.isCfnResource(cfn)) {
    throw new Error(`${caller}: ${deployment.node.path} has no custom resource; is it a BucketDeployment?`);
  }
  return cfn;
}
