/**
 * `AWS::CloudFront::Distribution` and `AWS::CloudFront::DistributionTenant`: each is one in the
 * CloudFront stand-in, which the handler invalidates; a distribution's `DomainName` is
 * `<id>.cloudfront.net`, and its deletion removes it from the stand-in.
 */
import { simulated } from './simulated';

/** A distribution, created in the CloudFront stand-in. */
export const distribution = simulated({
  identity(context) {
    const distributionId = context.state.cloud.cloudfront.addDistribution();
    return { physicalId: distributionId, attributes: { Id: distributionId, DomainName: `${distributionId.toLowerCase()}.cloudfront.net` } };
  },
  remove(context, deployed) {
    context.state.cloud.cloudfront.deleteDistribution(deployed.physicalId);
  },
});

/** A distribution tenant, created in the CloudFront stand-in under its DistributionId. */
export const distributionTenant = simulated({
  identity(context, properties) {
    const tenantId = context.state.cloud.cloudfront.addTenant(String(properties.DistributionId));
    return { physicalId: tenantId, attributes: { Id: tenantId } };
  },
});
