/**
 * Integration test. `npm test` checks its committed snapshot with integ-runner, without AWS; with
 * credentials, `npx projen integ:update` deploys it, and the assertions ask CloudFront whether the
 * invalidation exists with the expected paths and CallerReference.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Invalidation } from '../src';

const app = new App();
const stack = new Stack(app, 'cdk-cloudfront-invalidation-integ');
const bucket = new s3.Bucket(stack, 'Content', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true, enforceSSL: true });
const distribution = new cloudfront.Distribution(stack, 'Cdn', {
  defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
});
const invalidation = new Invalidation(stack, 'Purge', { distribution, paths: ['/index.html', '/assets/*'] });
// A test stack leaves nothing behind.
Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY });

const integ = new IntegTest(app, 'Invalidation', { testCases: [stack] });
const invalidationOf = () => integ.assertions.awsApiCall('CloudFront', 'getInvalidation', {
  DistributionId: distribution.distributionId,
  Id: invalidation.invalidationId,
});
invalidationOf().expect(ExpectedResult.objectLike({
  Invalidation: {
    Id: invalidation.invalidationId,
    InvalidationBatch: { CallerReference: `${invalidation.callerReference}-1`, Paths: { Quantity: 2 } },
  },
}));
// CloudFront does not keep the order of the paths: one assertion each.
for (const path of ['/index.html', '/assets/*']) {
  invalidationOf().expect(ExpectedResult.objectLike({ Invalidation: { InvalidationBatch: { Paths: { Items: Match.arrayWith([path]) } } } }));
}
