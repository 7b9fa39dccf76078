import { Token } from 'aws-cdk-lib';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { bucketDeploymentResource } from './deployment';
import { renderResource } from './render';

/**
 * Options for `InvalidationPaths.ofDeployment`.
 */
export interface DeploymentPathsOptions {
  /**
   * The origin path of the distribution's origin for the deployment's bucket (`originPath` of the
   * S3 origin): objects under it are served from the viewer's root, so it is taken off the key prefix.
   *
   * @default - the origin serves the bucket from its root
   */
  readonly originPath?: string;
}

/**
 * Invalidation paths worked out from what a deployment puts in the origin.
 */
export class InvalidationPaths {
  /**
   * The viewer path of everything a BucketDeployment puts in its bucket: `/<destinationKeyPrefix>/*`
   * (less the origin path), or `/*` without a prefix. Use it with
   * `InvalidationTrigger.onDeployment(deployment)` to purge exactly what the deployment replaced.
   *
   * @param deployment a BucketDeployment whose `destinationKeyPrefix` is known at synth
   */
  public static ofDeployment(deployment: s3deploy.BucketDeployment, options: DeploymentPathsOptions = {}): string[] {
    const prefix = keyPrefix(deployment);
    const originPath = trimSlashes(options.originPath ?? '');
    if (originPath && prefix !== originPath && !prefix.startsWith(`${originPath}/`)) {
      throw new Error(`InvalidationPaths.ofDeployment: ${deployment.node.path} puts its files under "${prefix}/", `
        + `which the origin path "${options.originPath}" does not serve`);
    }
    const served = trimSlashes(prefix.slice(originPath.length));
    return [served ? `/${served}/*` : '/*'];
  }

  private constructor() {}
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}

/** The deployment's destinationKeyPrefix, read from its custom resource. */
function keyPrefix(deployment: s3deploy.BucketDeployment): string {
  const cfn = bucketDeploymentResource(deployment, 'InvalidationPaths.ofDeployment');
  // BucketDeployment keeps its props to itself: read the prefix off its custom resource.
  const properties = renderResource(cfn)[0]?.definition.Properties as { DestinationBucketKeyPrefix?: unknown } | undefined;
  const prefix = properties?.DestinationBucketKeyPrefix ?? '';
  if (typeof prefix !== 'string' || Token.isUnresolved(prefix)) {
    throw new Error(`InvalidationPaths.ofDeployment: the destinationKeyPrefix of ${deployment.node.path} is only known at deploy time; `
      + 'give the paths yourself');
  }
  return trimSlashes(prefix);
}
