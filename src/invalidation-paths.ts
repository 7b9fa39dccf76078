import { Token } from 'aws-cdk-lib';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { changedFilesToken, checkMaxPaths } from './changed-files';
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
 * Options for `InvalidationPaths.changedFiles`.
 */
export interface ChangedFilesOptions extends DeploymentPathsOptions {
  /**
   * The file name a directory is served by (the distribution's `defaultRootObject`, or what an
   * edge function serves for `/docs/`): when `docs/index.html` changes, `/docs/` is purged too,
   * and `/` for the root's.
   *
   * @default - directory paths are not purged
   */
  readonly indexDocument?: string;

  /**
   * The most paths one deploy submits, wildcards included. When the changed objects need more,
   * groups of them are replaced with directory wildcards (`/docs/*`), chosen to purge the fewest
   * unchanged objects; at most 15 wildcards, what CloudFront keeps in progress at once per
   * distribution. CloudFront bills each path, past the first 1000 a month, about $0.005.
   *
   * @default 3000 - what one CloudFront request carries
   */
  readonly maxPaths?: number;
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

  /**
   * Only the objects a deploy added, changed or deleted, as viewer paths: use it as an
   * Invalidation's `paths`, alone. At synth a manifest of the deployment's local sources
   * (`Source.asset` of a folder or a zip; `Source.data` and `Source.jsonData`), file by file with a
   * hash of each, is shipped as an asset of its own (never in the template); at deploy the handler
   * compares it with the previous deploy's manifest and purges:
   *
   * - each object added, changed or deleted, at `/<destinationKeyPrefix>/<key>` (less the origin
   *   path), and its directory's path too when it is the `indexDocument`;
   * - when those need more than `maxPaths` paths, directory wildcards in place of groups of them,
   *   purging the fewest unchanged objects;
   * - the deployment's whole prefix (`/<prefix>/*`, or `/*`) on the first deploy, when the previous
   *   manifest cannot be read (removed by `cdk gc`, say), when the deployment's object settings
   *   (metadata, content type...) change, or when a source is known only at deploy time
   *   (`Source.bucket`); the Invalidation's `pathsNote` attribute says which;
   * - every deploy, the keys of sources with deploy-time values (`Source.data` with tokens);
   * - after a rollback, the deployment's whole prefix: what the rollback reverted is not known.
   *
   * The list resolves to the whole prefix (`['/<prefix>/*']`) wherever else it is used. Sources
   * must be added to the deployment before the Invalidation is defined.
   *
   * @param deployment a BucketDeployment whose `destinationKeyPrefix` is known at synth
   * @throws when `maxPaths` is not a whole number from 1 to 3000, when `indexDocument` is empty or
   *   holds a `/`, or when the origin path does not serve the deployment's prefix
   */
  public static changedFiles(deployment: s3deploy.BucketDeployment, options: ChangedFilesOptions = {}): string[] {
    const maxPaths = checkMaxPaths(options.maxPaths);
    const index = options.indexDocument;
    if (index !== undefined && (index === '' || index.includes('/') || Token.isUnresolved(index))) {
      throw new Error(`InvalidationPaths.changedFiles: indexDocument ${JSON.stringify(index)} must be a literal file name without '/', such as 'index.html'`);
    }
    const whole = InvalidationPaths.ofDeployment(deployment, options)[0];
    return changedFilesToken({
      deployment,
      originPath: trimSlashes(options.originPath ?? ''),
      root: whole.slice(0, -1),
      indexDocument: index,
      maxPaths,
    });
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
