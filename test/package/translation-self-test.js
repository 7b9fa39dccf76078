/**
 * The translation rules' self-test: known good and bad lines of each language, judged by the rules
 * before any sample is.
 */
'use strict';

const { translationProblems } = require('./translation-rules');

/** Known good and bad lines: each bad one must raise a problem, no good one may. */
function selfTest(assemblies) {
  const invalidation = ['cdk-cloudfront-invalidation.InvalidationTrigger#onChangeOf', 'cdk-cloudfront-invalidation.InvalidationPaths#changedFiles'];
  const cases = [
    ['go', 'Trigger: *cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(release),', invalidation, true],
    ['go', 'Trigger: *cdkcloudfrontinvalidation.InvalidationTrigger_OnDeployment(site),', undefined, true],
    ['go', 'Paths: *cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, true],
    ['go', 'Paths: *cdkcloudfrontinvalidation.InvalidationPaths_OfDeployment(assets),', undefined, true],
    ['go', 'Sources: []ISource{ *s3deploy.Source_Asset(jsii.String("./site")) },', ['aws-cdk-lib.aws_s3_deployment.Source#asset'], true],
    ['go', 'Runtime: *lambda.Runtime_NODEJS_22_X(),', ['aws-cdk-lib.aws_lambda.Runtime#NODEJS_22_X'], true],
    ['go', 'Distribution: Distribution,', undefined, true],
    ['go', 'Trigger: cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(api.currentVersion.Version),', invalidation, true],
    ['go', 'Paths: cdkcloudfrontinvalidation.InvalidationPaths_*ChangedFiles(site, &ChangedFilesOptions{', invalidation, true],
    ['go', 'Paths: cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, false],
    ['go', 'MaxPaths: jsii.Number(10 * 3),', undefined, false],
    ['go', 'Trigger: cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(release),', invalidation, false],
    ['go', 'paths := cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, false],
    ['go', 'Paths: paths,', undefined, false],
    ['go', 'Value: *awscdk.Fn_Join(jsii.String(","), ids),', undefined, false],
    ['go', 'Origin: origins.S3BucketOrigin_WithOriginAccessControl(bucket),', undefined, false],
    ['go', '// *cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(x) dereferences; api.currentVersion', invalidation, false],
    ['go', 'DefaultRootObject: jsii.String("index.html"),', undefined, false],
    ['go', 'import s3deploy "github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"', undefined, false],
    ['java', '.trigger(InvalidationTrigger.onChangeOf(api.getCurrentVersion().getVersion()))', undefined, false],
    ['java', '.trigger(InvalidationTrigger.onChangeOf(api.currentVersion.version))', undefined, true],
    ['java', 'Object trigger = InvalidationTrigger.onChangeOf(release);', undefined, true],
    ['java', 'InvalidationTrigger trigger = InvalidationTrigger.onChangeOf(release);', undefined, false],
    ['java', 'String[] paths = InvalidationPaths.ofDeployment(assets);', undefined, true],
    ['java', 'List<String> paths = InvalidationPaths.ofDeployment(assets);', undefined, false],
    ['java', 'import software.amazon.awscdk.services.lambda.*;', undefined, false],
    ['java', '.defaultRootObject("index.html")', undefined, false],
    ['java', 'if (x === undefined) {}', undefined, true],
    ['csharp', 'Trigger = InvalidationTrigger.OnChangeOf(api.CurrentVersion.Version)', undefined, false],
    ['csharp', 'Trigger = InvalidationTrigger.OnChangeOf(api.currentVersion.Version)', undefined, true],
    ['csharp', 'using Amazon.CDK.AWS.Lambda;', undefined, false],
    ['csharp', 'VpcSubnets = new Struct { SubnetType = SubnetType.PRIVATE_WITH_EGRESS },', undefined, true],
    ['csharp', 'VpcSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_WITH_EGRESS },', undefined, false],
    ['go', '// One handler for all of them.\n// One handler for all of them.\nx := 1', undefined, true],
    ['java', 'build(); // no distribution\n // no distribution', undefined, true],
    ['python', '# a\n# b', undefined, false],
    ['python', 'trigger=InvalidationTrigger.on_change_of(api.current_version.version)', undefined, false],
    ['python', 'trigger=InvalidationTrigger.on_change_of(api.currentVersion.version)', undefined, true],
    ['python', 'max_paths=3000  # maxPaths=3000 in TypeScript', undefined, false],
    ['python', 'maxPaths=3000', undefined, true],
    ['python', 'value=f"{x}"', undefined, false],
  ];
  const failures = cases.filter(([language, line, referenced, bad]) => (translationProblems(language, line, assemblies, referenced).length > 0) !== bad)
    .map(([language, line, , bad]) => `self-test: the ${language} line ${JSON.stringify(line)} should ${bad ? '' : 'not '}raise a problem`);
  return { cases: cases.length, failures };
}

module.exports = { selfTest };
