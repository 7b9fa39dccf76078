/**
 * `Custom::CDKBucketDeployment`, aws-cdk-lib's BucketDeployment: its handler is not run, but what
 * it does to its destination is kept (`../bucket-contents`): a Create or Update puts the sources'
 * files under the destination prefix; with RetainOnDelete false, an Update that moves the files
 * removes the old destination, and a Delete empties the destination unless a BucketDeployment's tag
 * on the bucket owns it.
 */
import { simulated } from './simulated';

/** A BucketDeployment, whose files land in the bucket contents the driver keeps. */
export const bucketDeployment = simulated({
  identity(context, properties) {
    return {
      physicalId: `aws.cdk.s3deployment.${context.state.uuid()}`,
      attributes: { DestinationBucketArn: `arn:aws:s3:::${String(properties.DestinationBucketName)}`, SourceObjectKeys: properties.SourceObjectKeys },
    };
  },
  apply(context, deployed, oldProperties) {
    const p = deployed.properties;
    // An Update that moves the files without retaining them first removes the old destination, owned or not.
    if (oldProperties && !retainsOnDelete(p)) {
      const [oldBucket, oldPrefix] = [String(oldProperties.DestinationBucketName ?? ''), keyPrefix(oldProperties)];
      if (oldBucket !== '' && (oldBucket !== String(p.DestinationBucketName) || oldPrefix !== keyPrefix(p))) {
        context.state.contents.remove(oldBucket, oldPrefix, context.phase);
      }
    }
    context.state.contents.land(context.synthesized, p, context.phase);
  },
  remove(context, deployed) {
    // RetainOnDelete false: the handler empties the destination, unless a BucketDeployment's tag on the bucket owns it.
    const bucket = String(deployed.properties.DestinationBucketName);
    const prefix = keyPrefix(deployed.properties);
    if (!retainsOnDelete(deployed.properties) && !context.state.contents.owned(bucket, prefix)) {
      context.state.contents.remove(bucket, prefix, context.phase);
    }
  },
});

/** Whether a BucketDeployment keeps its files when deleted: RetainOnDelete, a string to its handler, is "true" unless set otherwise. */
function retainsOnDelete(properties: Record<string, unknown>): boolean {
  return String(properties.RetainOnDelete ?? 'true') === 'true';
}

/** A BucketDeployment's destination prefix as its handler takes it: "/" is no prefix. */
function keyPrefix(properties: Record<string, unknown>): string {
  const prefix = String(properties.DestinationBucketKeyPrefix ?? '');
  return prefix === '/' ? '' : prefix;
}
