/**
 * What fires an Invalidation: the stack's fingerprint (onStackChange), a deployment's content
 * (onDeployment, with InvalidationPaths.ofDeployment), and values (onChangeOf).
 */
import { CfnParameter, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import * as fingerprints from '../../src/fingerprint';
import * as render from '../../src/render';
import { ENV, importedDistribution, newApp, siteStack } from '../support/synth';
import { anchorOf, byPrefix, invalidationResources, only, triggerOf } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('fingerprint (onStackChange)', () => {
  test('changes when site content (an asset) changes', () => {
    expect(triggerOf(siteStack({ content: '<h1>v1</h1>' }).template)).not.toEqual(triggerOf(siteStack({ content: '<h1>v2</h1>' }).template));
  });

  test('stays the same when the content does', () => {
    expect(triggerOf(siteStack().template)).toEqual(triggerOf(siteStack().template));
  });

  test('changes when another resource\'s configuration changes', () => {
    const withFunction = (memorySize: number) => siteStack({
      extra: (stack) => new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1'), memorySize }),
    }).template;
    expect(triggerOf(withFunction(128))).not.toEqual(triggerOf(withFunction(256)));
  });

  test('stays the same when only the handler, its settings, the library\'s other resources or CDK metadata change', () => {
    const base = triggerOf(siteStack().template);
    const handlerChanged = siteStack({
      invalidation: { waitForCompletion: true, timeout: Duration.minutes(5), failOnTimeout: false, paths: ['/a'] },
      extra: (stack) => {
        const fn = stack.node.findChild('CloudFrontInvalidationProvider').node.findChild('Handler') as lambda.Function;
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('Code.S3Key', 'a-newer-handler.zip');
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('MemorySize', 1024);
        Invalidation.configureHandler(stack, { logRetention: logs.RetentionDays.ONE_DAY });
      },
    });
    expect(triggerOf(handlerChanged.template)).toEqual(base);
    const noPathMetadata = siteStack({ app: newApp({ context: { 'aws:cdk:enable-path-metadata': false } }) });
    expect(triggerOf(noPathMetadata.template)).toEqual(base);
  });

  test('carries the deploy-time values of the parameters the stack uses', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const version = new CfnParameter(stack, 'SiteVersion', { type: 'String' });
        const hosts = new CfnParameter(stack, 'Origins', { type: 'CommaDelimitedList' });
        new ssm.StringParameter(stack, 'Version', { stringValue: version.valueAsString });
        new ssm.StringParameter(stack, 'Origin', { stringValue: Fn.select(0, hosts.valueAsList) });
        new CfnParameter(stack, 'Unused', { type: 'String' });
      },
    });
    expect(triggerOf(template).slice(1)).toEqual([
      { 'Fn::Join': ['', ['parameter:Origins=', { 'Fn::Join': [',', { Ref: 'Origins' }] }]] },
      { 'Fn::Join': ['', ['parameter:SiteVersion=', { Ref: 'SiteVersion' }]] },
    ]);
  });

  test('carries the values the stack imports from other stacks, which change without its template changing', () => {
    const app = newApp();
    const shared = new Stack(app, 'Shared', { env: ENV });
    const api = new ssm.StringParameter(shared, 'Api', { stringValue: 'https://api.example.com' });
    const { template } = siteStack({ app, extra: (stack) => new ssm.StringParameter(stack, 'ApiName', { stringValue: api.parameterName }) });
    expect(triggerOf(template).slice(1)).toEqual([{ 'Fn::ImportValue': expect.stringMatching(/^Shared:ExportsOutputRefApi/) }]);
  });

  test('is worked out once per stack: each resource rendered and each fingerprint hashed once, however many Invalidations', () => {
    const rendersWith = (n: number) => {
      const spy = jest.spyOn(render, 'renderResource');
      const hashes = jest.spyOn(fingerprints, 'fingerprint');
      try {
        const { template } = siteStack({
          extra: (stack, distribution, deployment) => {
            for (let i = 1; i < n; i++) {
              new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/p${i}`] });
              new Invalidation(stack, `Copy${i}`, { distribution, paths: [`/c${i}`], trigger: InvalidationTrigger.onDeployment(deployment) });
            }
          },
        });
        const triggers = new Set(Object.values(invalidationResources(template)).map((r) => JSON.stringify(r.Properties.Trigger)));
        const followed = anchorOf(template)[1].DependsOn!.length;
        return { calls: spy.mock.calls.length, hashes: hashes.mock.calls.length, triggers: triggers.size, followed };
      } finally {
        spy.mockRestore();
        hashes.mockRestore();
      }
    };
    const one = rendersWith(1);
    const thirty = rendersWith(30);
    // Every user resource once for the stack (the anchor and the fingerprint), the copy once more for
    // the setup checks of the app, and once more for the deployments' fingerprint.
    expect(one.calls).toBe(one.followed + 1);
    expect(thirty.calls).toBe(one.calls + 1);
    // One fingerprint for the stack, one for the deployment.
    expect([one.hashes, thirty.hashes]).toEqual([1, 2]);
    expect([one.triggers, thirty.triggers]).toEqual([1, 2]);
  });

  test('what is worked out before the stack is complete does not stick', () => {
    const early = (stack: Stack) => {
      const content = (stack.node.findChild('CloudFrontInvalidationProvider') as unknown as { content: { followedIds(): string[]; stackChangeFingerprint(): unknown[] } }).content;
      return [content.followedIds(), content.stackChangeFingerprint()];
    };
    let before: unknown[] = [];
    const { template } = siteStack({
      extra: (stack) => {
        before = early(stack);
        new ssm.StringParameter(stack, 'Later', { stringValue: 'x' });
      },
    });
    expect(before[0]).not.toContain(byPrefix(template, 'Later')[0]);
    expect(anchorOf(template)[1].DependsOn).toContain(byPrefix(template, 'Later')[0]);
    expect(triggerOf(template)).not.toEqual(before[1]);
  });
});

describe('onDeployment', () => {
  function deploymentSite(content = '<h1>v1</h1>', memorySize = 128) {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Assets', {
      sources: [s3deploy.Source.data('app.js', content)],
      destinationBucket: bucket,
      destinationKeyPrefix: 'assets/',
    });
    new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1'), memorySize });
    new Invalidation(stack, 'Purge', {
      distribution,
      trigger: InvalidationTrigger.onDeployment(deployment),
      paths: InvalidationPaths.ofDeployment(deployment),
    });
    return Template.fromStack(stack);
  }

  test('runs after the deployment\'s copy, with the paths under its prefix', () => {
    const template = deploymentSite();
    const [, invalidation] = only(invalidationResources(template));
    const [copy] = Object.keys(template.findResources('Custom::CDKBucketDeployment'));
    expect(invalidation.DependsOn).toContain(copy);
    expect(invalidation.Properties.Paths).toEqual(['/assets/*']);
  });

  test('fires when the deployment\'s content changes, not when the rest of the stack does', () => {
    const base = triggerOf(deploymentSite());
    // The hash, then what the copy refers to, as CloudFormation resolves it: its bucket.
    expect(base).toEqual([expect.stringMatching(/^deployment:[0-9a-f]{64}$/), { Ref: expect.stringMatching(/^Bucket/) }]);
    expect(triggerOf(deploymentSite('<h1>v2</h1>'))).not.toEqual(base);
    expect(triggerOf(deploymentSite('<h1>v1</h1>', 1024))).toEqual(base);
  });

  test('follows the values its sources resolve at deploy time: a parameter replaced gives a new config.json, and fires it', () => {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const param = new ssm.StringParameter(stack, 'Endpoint', { stringValue: 'https://api.example.com' });
    const deployment = new s3deploy.BucketDeployment(stack, 'Config', {
      sources: [s3deploy.Source.jsonData('config.json', { endpoint: param.parameterName, arn: param.parameterArn })],
      destinationBucket: bucket,
    });
    new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) });
    const trigger = triggerOf(Template.fromStack(stack));
    const [paramId] = Object.keys(Template.fromStack(stack).findResources('AWS::SSM::Parameter'));
    expect(trigger).toEqual(expect.arrayContaining([{ Ref: paramId }]));
    expect(JSON.stringify(trigger)).toContain(paramId);
  });

  test('refuses a BucketDeployment from another stack', () => {
    const app = newApp();
    const one = new Stack(app, 'One');
    const bucket = new s3.Bucket(one, 'Bucket');
    const deployment = new s3deploy.BucketDeployment(one, 'Assets', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket });
    const two = new Stack(app, 'Two');
    expect(() => new Invalidation(two, 'Purge', { distribution: importedDistribution(two, 'E1'), trigger: InvalidationTrigger.onDeployment(deployment) }))
      .toThrow(/BucketDeployment One\/Assets is in stack One, the invalidation in stack Two; put them in the same stack/);
  });
});

describe('InvalidationPaths.ofDeployment', () => {
  function deployment(destinationKeyPrefix?: string) {
    const stack = new Stack(newApp());
    const bucket = new s3.Bucket(stack, 'Bucket');
    return new s3deploy.BucketDeployment(stack, 'D', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket, destinationKeyPrefix });
  }

  test.each([
    [undefined, {}, ['/*']],
    ['assets', {}, ['/assets/*']],
    ['assets/', {}, ['/assets/*']],
    ['site/v2/assets/', { originPath: '/site/v2' }, ['/assets/*']],
    ['site/', { originPath: '/site' }, ['/*']],
  ])('prefix %j with %j serves %j', (prefix, options, expected) => {
    expect(InvalidationPaths.ofDeployment(deployment(prefix), options)).toEqual(expected);
  });

  test('refuses a prefix the origin path does not serve, or one known only at deploy time', () => {
    expect(() => InvalidationPaths.ofDeployment(deployment('other/'), { originPath: '/site' })).toThrow(/puts its files under "other\/", which the origin path "\/site" does not serve/);
    const withToken = deployment(Lazy.string({ produce: () => 'late/' }));
    expect(() => InvalidationPaths.ofDeployment(withToken)).not.toThrow();
    const stack = new Stack(newApp());
    const param = new CfnParameter(stack, 'Prefix');
    const bucket = new s3.Bucket(stack, 'Bucket');
    const deployed = new s3deploy.BucketDeployment(stack, 'D', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket, destinationKeyPrefix: param.valueAsString });
    expect(() => InvalidationPaths.ofDeployment(deployed)).toThrow(/only known at deploy time; give the paths yourself/);
  });
});

describe('onChangeOf', () => {
  test('carries the values as CloudFormation resolves them', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const fn = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1') });
        const version = ssm.StringParameter.valueForStringParameter(stack, '/site/version');
        new Invalidation(stack, 'ApiPurge', { distribution, paths: ['/api/*'], trigger: InvalidationTrigger.onChangeOf(fn.currentVersion.version, version, 'schema-3') });
      },
    });
    expect(byPrefix(template, 'ApiPurge')[1].Properties.Trigger).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ApiCurrentVersion/), 'Version'] },
      { Ref: expect.stringMatching(/^SsmParameterValue/) },
      'schema-3',
    ]);
  });
});
