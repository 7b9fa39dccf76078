/**
 * `AWS::S3::Bucket`: named `<stack>-<logical id>-<suffix>` in lower case, with the ARN and domain
 * names a bucket has. Its tags tell a BucketDeployment's Delete whether it owns the bucket
 * (`../bucket-contents`).
 */
import { REGION } from '../local-cloud';
import { simulated } from './simulated';

/** A bucket: only its names. */
export const s3Bucket = simulated({
  identity(_at, _properties, { name }) {
    const bucket = name.toLowerCase();
    return {
      physicalId: bucket,
      attributes: {
        Arn: `arn:aws:s3:::${bucket}`,
        DomainName: `${bucket}.s3.amazonaws.com`,
        RegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com`,
        WebsiteURL: `http://${bucket}.s3-website-${REGION}.amazonaws.com`,
      },
    };
  },
});
