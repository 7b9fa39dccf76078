/**
 * What the library adds to a stack: none of the user's resources change, a fixed set of resources
 * per stack and one per Invalidation, and a template that grows little with each (invariant I9).
 */
import * as fs from 'fs';
import { CfnOutput, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Invalidation, InvalidationTrigger } from '../../src';
import type { InvalidationProps } from '../../src';
import { CLI_CONTEXT, ENV, importedDistribution, newApp, siteStack } from '../support/synth';
import type { Resources } from '../support/template';
import { anchorOf, invalidationResources, providerFunctions, resourcesOf } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('the user\'s resources stay as they were', () => {
  function site(invalidation: Partial<InvalidationProps> | false) {
    return siteStack({
      app: newApp({ context: CLI_CONTEXT }),
      invalidation,
      extra: (stack, distribution) => {
        const fn = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1') });
        new CfnOutput(stack, 'Domain', { value: distribution.distributionDomainName });
        new CfnParameter(stack, 'Version');
        fn.addEnvironment('SITE', distribution.distributionId);
      },
    }).template.toJSON();
  }

  test.each<[string, Partial<InvalidationProps>]>([
    ['onStackChange', {}],
    ['onChangeOf', { trigger: InvalidationTrigger.onChangeOf('v1') }],
    ['executeAfterStack: false', { trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false, waitForCompletion: true }],
  ])('adding an Invalidation (%s) changes only the library\'s own resources', (_name, props) => {
    const before = site(false);
    const after = site(props);
    for (const section of Object.keys({ ...before, ...after }).filter((s) => s !== 'Resources')) {
      expect([section, after[section]]).toEqual([section, before[section]]);
    }
    for (const [id, resource] of Object.entries(before.Resources as Resources)) {
      if (resource.Type !== 'AWS::CDK::Metadata') {
        expect([id, after.Resources[id]]).toEqual([id, resource]);
      }
    }
    const added = Object.entries(after.Resources as Resources).filter(([id]) => !(id in before.Resources));
    expect(added.map(([, r]) => String(r.Metadata?.['aws:cdk:path']).replace(/^Site\/(Invalidate|CloudFrontInvalidationProvider)\/.*/, 'library')))
      .toEqual(added.map(() => 'library'));
  });

  test('a stack with the library has a fixed set of resources, plus one per Invalidation', () => {
    const count = (n: number) => {
      const { template } = siteStack({
        invalidation: false,
        extra: (stack, distribution) => {
          for (let i = 0; i < n; i++) {
            new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
          }
        },
      });
      return Object.keys(resourcesOf(template)).length;
    };
    const [none, one, two, five] = [count(0), count(1), count(2), count(5)];
    // Role, its default policy, the policy, log group, function, dead-letter queue and its policy,
    // anchor, rule and its permission to invoke the function; and the Invalidation.
    expect(one - none).toBe(11);
    expect([two - one, five - one]).toEqual([1, 4]);
  });
});

describe('template size on a 400-resource stack', () => {
  function templateBytes(invalidations: number): number {
    const app = newApp({ context: CLI_CONTEXT });
    const stack = new Stack(app, 'Site', { env: ENV });
    for (let i = 0; i < 400; i++) {
      new sqs.Queue(stack, `Queue${i}`);
    }
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(stack, 'Deploy', { sources: [s3deploy.Source.data('index.html', '<h1>v1</h1>')], destinationBucket: bucket });
    for (let i = 0; i < invalidations; i++) {
      new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
    }
    // The template file as `cdk synth` writes it (pretty-printed).
    return fs.statSync(app.synth().getStackByName('Site').templateFullPath).size;
  }

  test('the first Invalidation adds at most 25 KB, each further one at most 4 KB', () => {
    const [none, one, two, eleven] = [templateBytes(0), templateBytes(1), templateBytes(2), templateBytes(11)];
    expect(one - none).toBeLessThanOrEqual(25 * 1024);
    expect(two - one).toBeLessThanOrEqual(4 * 1024);
    expect(eleven - one).toBeLessThanOrEqual(10 * 4 * 1024);
  });
});

describe('one handler per stack', () => {
  test('three Invalidations share one function, one role, one policy, one anchor and one rule', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Second', { distribution, paths: ['/a'] });
        new Invalidation(stack, 'Third', { distribution, paths: ['/b'], trigger: InvalidationTrigger.onChangeOf('x') });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(3);
    expect(providerFunctions(template)).toHaveLength(1);
    expect(Object.keys(template.findResources('AWS::Events::Rule'))).toHaveLength(1);
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toHaveLength(1);
    anchorOf(template);
    const tokens = new Set(Object.values(invalidationResources(template)).map((r) => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
  });

  test('two stacks get a handler each', () => {
    const app = newApp();
    const stacks = ['One', 'Two'].map((name) => {
      const stack = new Stack(app, name, { env: ENV });
      new Invalidation(stack, 'Invalidate', { distribution: importedDistribution(stack, `E${name.toUpperCase()}`) });
      return stack;
    });
    for (const stack of stacks) {
      expect(providerFunctions(Template.fromStack(stack))).toHaveLength(1);
    }
  });
});
