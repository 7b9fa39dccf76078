import { App, CfnParameter, CfnResource, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../src';
import type { InvalidationProps } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };

interface SiteOptions {
  readonly content?: string;
  readonly invalidation?: Partial<InvalidationProps>;
  readonly app?: App;
  readonly extra?: (stack: Stack, distribution: cloudfront.Distribution) => void;
}

function siteStack(options: SiteOptions = {}) {
  const app = options.app ?? new App();
  const stack = new Stack(app, 'Site', { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const distribution = new cloudfront.Distribution(stack, 'Distribution', {
    defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
  });
  new s3deploy.BucketDeployment(stack, 'Deploy', {
    sources: [s3deploy.Source.data('index.html', options.content ?? '<h1>v1</h1>')],
    destinationBucket: bucket,
  });
  const invalidation = new Invalidation(stack, 'Invalidate', { distribution, ...options.invalidation });
  options.extra?.(stack, distribution);
  return { app, stack, distribution, invalidation, template: Template.fromStack(stack) };
}

function invalidationResources(template: Template) {
  return template.findResources('Custom::CloudFrontInvalidation');
}

function only<T>(record: Record<string, T>): [string, T] {
  const entries = Object.entries(record);
  expect(entries).toHaveLength(1);
  return entries[0];
}

function triggerOf(template: Template): unknown[] {
  return (only(invalidationResources(template))[1] as { Properties: { Trigger: unknown[] } }).Properties.Trigger;
}

function providerFunctions(template: Template) {
  return Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CloudFrontInvalidationProvider'));
}

describe('resource', () => {
  test('is a Custom::CloudFrontInvalidation with the distribution, paths and settings, and a ServiceTimeout that fits the wait', () => {
    const { template } = siteStack({ invalidation: { paths: ['/index.html', '/assets/*'], timeout: Duration.minutes(10), waitForCompletion: true } });
    template.hasResourceProperties('Custom::CloudFrontInvalidation', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloudFrontInvalidationProviderHandler'), 'Arn'] },
      DistributionId: { Ref: Match.stringLikeRegexp('^Distribution') },
      Paths: ['/index.html', '/assets/*'],
      WaitForCompletion: 'true',
      TimeoutSeconds: '600',
      FailOnTimeout: 'true',
      ServiceTimeout: '720',
      Trigger: [Match.stringLikeRegexp('^stack:[0-9a-f]{64}$')],
    });
  });

  test('defaults to /*, no waiting and a 30-minute budget', () => {
    const { template } = siteStack();
    template.hasResourceProperties('Custom::CloudFrontInvalidation', {
      Paths: ['/*'],
      WaitForCompletion: 'false',
      TimeoutSeconds: '1800',
      ServiceTimeout: '1920',
    });
  });

  test('exposes the invalidation ids, CallerReference and warning as attributes', () => {
    const { stack, invalidation } = siteStack();
    const id = only(invalidationResources(Template.fromStack(stack)))[0];
    expect(stack.resolve(invalidation.invalidationId)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationId'] });
    expect(stack.resolve(invalidation.invalidationIds)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationIds'] });
    expect(stack.resolve(invalidation.callerReference)).toEqual({ 'Fn::GetAtt': [id, 'CallerReference'] });
    expect(stack.resolve(invalidation.warning)).toEqual({ 'Fn::GetAtt': [id, 'Warning'] });
  });

  test('runs on a current Node.js runtime, arm64, with a bounded log group', () => {
    const { template } = siteStack();
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 900 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});

describe('one handler per stack', () => {
  test('three Invalidations share one function, one role and one policy', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Second', { distribution, paths: ['/a'] });
        new Invalidation(stack, 'Third', { distribution, paths: ['/b'] });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(3);
    expect(providerFunctions(template)).toHaveLength(1);
    const tokens = new Set(Object.values(invalidationResources(template)).map((r) => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
  });

  test('two stacks get a handler each', () => {
    const app = new App();
    const stacks = ['One', 'Two'].map((name) => {
      const stack = new Stack(app, name, { env: ENV });
      new Invalidation(stack, 'Invalidate', {
        distribution: cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: `E${name.toUpperCase()}`, domainName: 'x.cloudfront.net' }),
      });
      return stack;
    });
    for (const stack of stacks) {
      expect(providerFunctions(Template.fromStack(stack))).toHaveLength(1);
    }
  });
});

describe('IAM', () => {
  function statements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CloudFrontInvalidationProvider'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  }

  test('grants CloudFront actions on exactly the distributions used, never on *', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const imported = cloudfront.Distribution.fromDistributionAttributes(stack, 'Imported', { distributionId: 'EIMPORTED', domainName: 'x.cloudfront.net' });
        new Invalidation(stack, 'Second', { distribution: imported });
        new Invalidation(stack, 'Third', { distribution: imported, paths: ['/x'] });
      },
    });
    const cloudfrontStatements = statements(template).filter((s) => JSON.stringify(s.Action).includes('cloudfront:'));
    const [distributionId] = Object.keys(template.findResources('AWS::CloudFront::Distribution'));
    expect(cloudfrontStatements).toEqual([{
      Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations'],
      Effect: 'Allow',
      Resource: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::123456789012:distribution/', { Ref: distributionId }]] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::123456789012:distribution/EIMPORTED']] },
      ],
    }]);
    expect(JSON.stringify(statements(template))).not.toContain('"*"');
  });

  test('lets the handler start itself again and read only its own stack', () => {
    const { template } = siteStack();
    const fnId = providerFunctions(template)[0];
    expect(statements(template)).toEqual(expect.arrayContaining([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } },
      { Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'], Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]));
  });

  test('the invalidation waits for the handler\'s policy, and the function does not (no cycle)', () => {
    const { template } = siteStack();
    const [policyId] = Object.keys(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('CloudFrontInvalidationProviderPolicy') } }));
    const [, invalidation] = only(invalidationResources(template));
    expect(invalidation.DependsOn).toContain(policyId);
    const fn = template.findResources('AWS::Lambda::Function')[providerFunctions(template)[0]];
    expect(fn.DependsOn ?? []).not.toContain(policyId);
  });
});

describe('ordering and fingerprint (onStackChange)', () => {
  test('runs after every other resource of the stack, leaving out its own machinery', () => {
    const { template } = siteStack();
    const [, invalidation] = only(invalidationResources(template));
    const all = Object.keys(template.toJSON().Resources);
    const machinery = all.filter((id) => id.startsWith('CloudFrontInvalidationProvider') && !id.startsWith('CloudFrontInvalidationProviderPolicy'));
    const expected = all.filter((id) => !id.startsWith('Invalidate') && !machinery.includes(id));
    expect([...invalidation.DependsOn].sort()).toEqual(expected.sort());
    expect(expected.some((id) => id.startsWith('DeployCustomResource'))).toBe(true);
  });

  test('skips resources that depend on an invalidation, so there is no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const inv = stack.node.findChild('Invalidate') as Invalidation;
        new ssm.StringParameter(stack, 'LastInvalidation', { stringValue: inv.invalidationId });
      },
    });
    const [, invalidation] = only(invalidationResources(template));
    const [paramId] = Object.keys(template.findResources('AWS::SSM::Parameter'));
    expect(invalidation.DependsOn).not.toContain(paramId);
    expect(invalidation.DependsOn.length).toBeGreaterThan(3);
  });

  test('two invalidations in a stack do not wait for each other', () => {
    const { template } = siteStack({ extra: (stack, distribution) => new Invalidation(stack, 'Second', { distribution, paths: ['/a'] }) });
    const resources = invalidationResources(template);
    for (const [, r] of Object.entries(resources)) {
      for (const other of Object.keys(resources)) {
        expect(r.DependsOn).not.toContain(other);
      }
    }
  });

  test('executeAfter adds to the order', () => {
    const { template } = siteStack({
      invalidation: { trigger: InvalidationTrigger.onChangeOf('v1') },
      extra: (stack) => {
        const inv = stack.node.findChild('Invalidate') as Invalidation;
        const bucket = new s3.Bucket(stack, 'Later');
        inv.executeAfter(bucket);
      },
    });
    const [, invalidation] = only(invalidationResources(template));
    expect(invalidation.DependsOn).toContain(Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('Later')));
  });

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

  test('stays the same when only the handler, its settings or CDK metadata change', () => {
    const base = triggerOf(siteStack().template);
    const handlerChanged = siteStack({
      invalidation: { waitForCompletion: true, timeout: Duration.minutes(5), failOnTimeout: false },
      extra: (stack) => {
        const fn = stack.node.findChild('CloudFrontInvalidationProvider').node.findChild('Handler') as lambda.Function;
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('Code.S3Key', 'a-newer-handler.zip');
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('MemorySize', 1024);
      },
    });
    expect(triggerOf(handlerChanged.template)).toEqual(base);
    const noPathMetadata = siteStack({ app: new App({ context: { 'aws:cdk:enable-path-metadata': false } }) });
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
});

describe('rollback guard', () => {
  function guardOf(template: Template) {
    return only(template.findResources('Custom::CloudFrontInvalidationRollbackGuard'));
  }

  test('carries the invalidation\'s inputs, names its distribution by logical id, and waits for nothing in the stack but the handler', () => {
    const { template } = siteStack({ invalidation: { paths: ['/index.html', '/assets/*'] } });
    const [, guard] = guardOf(template);
    const [, invalidation] = only(invalidationResources(template));
    const [distributionId] = Object.keys(template.findResources('AWS::CloudFront::Distribution'));
    const { Paths, Trigger } = invalidation.Properties;
    expect(guard.Properties).toMatchObject({ DistributionLogicalId: distributionId, Paths, Trigger });
    expect(guard.DependsOn).toBeUndefined();
    const references = JSON.stringify(guard.Properties).match(/"(Ref|Fn::GetAtt)":\[?"[^"]+"/g);
    expect(references).toEqual(['"Fn::GetAtt":["CloudFrontInvalidationProviderHandlerCDA15010"']);
    expect(invalidation.Properties.RollbackGuard).toBe('true');
  });

  test('every other resource of the stack waits for it, the handler machinery does not', () => {
    const { template } = siteStack();
    const [guardId] = guardOf(template);
    for (const [id, r] of Object.entries(template.toJSON().Resources as Record<string, { DependsOn?: string[] }>)) {
      const machinery = id.startsWith('CloudFrontInvalidationProvider') || id.startsWith('Invalidate');
      expect([id, (r.DependsOn ?? []).includes(guardId)]).toEqual([id, !machinery]);
    }
  });

  test('names an imported distribution by id, and one from another stack by its export', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const imported = cloudfront.Distribution.fromDistributionAttributes(stack, 'Imported', { distributionId: 'EIMPORTED', domainName: 'x.cloudfront.net' });
        new Invalidation(stack, 'Second', { distribution: imported });
      },
    });
    const guards = Object.values(template.findResources('Custom::CloudFrontInvalidationRollbackGuard'));
    expect(guards.map((g) => g.Properties.DistributionId ?? g.Properties.DistributionLogicalId).sort()).toEqual([expect.stringMatching(/^Distribution/), 'EIMPORTED']);
  });

  test('what the handler needs from the stack (a permissions boundary) goes before it, so there is no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const boundary = new iam.ManagedPolicy(stack, 'Boundary', { statements: [new iam.PolicyStatement({ actions: ['s3:*', 'cloudfront:*'], resources: ['*'] })] });
        iam.PermissionsBoundary.of(stack).apply(boundary);
      },
    });
    const [guardId] = guardOf(template);
    const [boundaryId, boundary] = only(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(boundary.DependsOn ?? []).not.toContain(guardId);
    template.hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: { Ref: boundaryId } });
    // Template.fromStack refuses a template with a cycle. Everything else still waits for the guard.
    const [bucketId, bucket] = only(template.findResources('AWS::S3::Bucket'));
    expect([bucketId, bucket.DependsOn]).toEqual([bucketId, expect.arrayContaining([guardId])]);
  });

  test('what the Invalidation is made to depend on goes before its guard, so there is no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const first = new ssm.StringParameter(stack, 'First', { stringValue: 'x' });
        const invalidation = stack.node.findChild('Invalidate') as Invalidation;
        invalidation.node.addDependency(first);
      },
    });
    const [guardId, guard] = guardOf(template);
    const [firstId, first] = only(template.findResources('AWS::SSM::Parameter'));
    expect(guard.DependsOn).toContain(firstId);
    expect(first.DependsOn ?? []).not.toContain(guardId);
    const [bucketId, bucket] = only(template.findResources('AWS::S3::Bucket'));
    expect([bucketId, bucket.DependsOn]).toEqual([bucketId, expect.arrayContaining([guardId])]);
  });

  test('is left out when the distribution id is worked out from another resource of the stack', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const id = new ssm.StringParameter(stack, 'DistributionIdParameter', { stringValue: 'EFROMPARAMETER' }).stringValue;
        const fromParameter = cloudfront.Distribution.fromDistributionAttributes(stack, 'FromParameter', { distributionId: id, domainName: 'x.cloudfront.net' });
        new Invalidation(stack, 'Second', { distribution: fromParameter });
      },
    });
    const guards = Object.values(template.findResources('Custom::CloudFrontInvalidationRollbackGuard'));
    expect(guards.map((g) => g.Properties.DistributionLogicalId)).toEqual([expect.stringMatching(/^Distribution/)]);
  });

  test('is left out where it could not go first: onChangeOf, or paths known only at deploy time', () => {
    const byValues = siteStack({ invalidation: { trigger: InvalidationTrigger.onChangeOf('v1') } }).template;
    expect(byValues.findResources('Custom::CloudFrontInvalidationRollbackGuard')).toEqual({});
    expect(only(invalidationResources(byValues))[1].Properties.RollbackGuard).toBeUndefined();
    const byTokens = siteStack({ invalidation: { paths: [Lazy.string({ produce: () => '/resolved-at-synth' })] } }).template;
    expect(byTokens.findResources('Custom::CloudFrontInvalidationRollbackGuard')).toEqual({});
  });
});

describe('onDeployment', () => {
  function deploymentSite(content = '<h1>v1</h1>', memorySize = 128) {
    const app = new App();
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

  test('runs after the deployment\'s copy and its handler policy, not after the whole stack', () => {
    const template = deploymentSite();
    const [, invalidation] = only(invalidationResources(template));
    const [copy] = Object.keys(template.findResources('Custom::CDKBucketDeployment'));
    expect(invalidation.DependsOn).toContain(copy);
    expect(invalidation.DependsOn.filter((id: string) => id.startsWith('Api'))).toEqual([]);
    expect(invalidation.Properties.Paths).toEqual(['/assets/*']);
  });

  test('fires when the deployment\'s content changes, not when the rest of the stack does', () => {
    const base = triggerOf(deploymentSite());
    expect(base).toEqual([expect.stringMatching(/^deployment:[0-9a-f]{64}$/)]);
    expect(triggerOf(deploymentSite('<h1>v2</h1>'))).not.toEqual(base);
    expect(triggerOf(deploymentSite('<h1>v1</h1>', 1024))).toEqual(base);
  });

  test('its rollback guard goes before the deployment only', () => {
    const template = deploymentSite();
    const [guardId] = Object.keys(template.findResources('Custom::CloudFrontInvalidationRollbackGuard'));
    const waiting = Object.entries(template.toJSON().Resources as Record<string, { DependsOn?: string[] }>)
      .filter(([, r]) => (r.DependsOn ?? []).includes(guardId)).map(([id]) => id);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((id) => id.startsWith('Assets'))).toBe(true);
  });

  test('refuses a BucketDeployment from another stack', () => {
    const app = new App();
    const one = new Stack(app, 'One');
    const bucket = new s3.Bucket(one, 'Bucket');
    const deployment = new s3deploy.BucketDeployment(one, 'Assets', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket });
    const two = new Stack(app, 'Two');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(two, 'D', { distributionId: 'E1', domainName: 'x' });
    expect(() => new Invalidation(two, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) }))
      .toThrow(/BucketDeployment One\/Assets is in stack One, the invalidation in stack Two; put them in the same stack/);
  });
});

describe('InvalidationPaths.ofDeployment', () => {
  function deployment(destinationKeyPrefix?: string) {
    const stack = new Stack();
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
    const stack = new Stack();
    const param = new CfnParameter(stack, 'Prefix');
    const bucket = new s3.Bucket(stack, 'Bucket');
    const deployed = new s3deploy.BucketDeployment(stack, 'D', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket, destinationKeyPrefix: param.valueAsString });
    expect(() => InvalidationPaths.ofDeployment(deployed)).toThrow(/only known at deploy time; give the paths yourself/);
  });
});

describe('onChangeOf', () => {
  test('carries the values as CloudFormation resolves them, and waits only for what they refer to', () => {
    const { template } = siteStack({
      invalidation: { trigger: undefined },
      extra: (stack, distribution) => {
        const fn = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1') });
        const version = ssm.StringParameter.valueForStringParameter(stack, '/site/version');
        new Invalidation(stack, 'ApiPurge', { distribution, paths: ['/api/*'], trigger: InvalidationTrigger.onChangeOf(fn.currentVersion.version, version, 'schema-3') });
      },
    });
    const resources = invalidationResources(template);
    const [, api] = Object.entries(resources).find(([id]) => id.startsWith('ApiPurge'))!;
    expect(api.Properties.Trigger).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ApiCurrentVersion/), 'Version'] },
      { Ref: expect.stringMatching(/^SsmParameterValue/) },
      'schema-3',
    ]);
    expect(api.DependsOn).toEqual([expect.stringMatching(/^CloudFrontInvalidationProviderPolicy/)]);
    expect(api.Properties.RollbackGuard).toBeUndefined();
  });
});

describe('distribution tenants', () => {
  test('grant the tenant actions on exactly the tenant ARNs, and nothing on the distribution', () => {
    const { template } = siteStack({
      invalidation: { distributionTenantId: 'dt_example1' },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: { Action: unknown }) => JSON.stringify(st.Action).includes('cloudfront:'));
    expect(statements).toEqual([{
      Action: ['cloudfront:CreateInvalidationForDistributionTenant', 'cloudfront:GetInvalidationForDistributionTenant', 'cloudfront:ListInvalidationsForDistributionTenant'],
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::123456789012:distribution-tenant/dt_example1']] },
    }]);
    template.hasResourceProperties('Custom::CloudFrontInvalidation', { DistributionTenantId: 'dt_example1' });
  });

  test('a tenant defined in the stack is named by logical id in the rollback guard', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const tenant = new CfnResource(stack, 'Tenant', { type: 'AWS::CloudFront::DistributionTenant', properties: { DistributionId: distribution.distributionId, Name: 'a', Domains: [{ Domain: 'a.example.com' }] } });
        new Invalidation(stack, 'TenantPurge', { distribution, distributionTenantId: tenant.ref });
      },
    });
    const guards = Object.values(template.findResources('Custom::CloudFrontInvalidationRollbackGuard'));
    expect(guards.map((g) => g.Properties.DistributionTenantLogicalId).filter(Boolean)).toEqual([expect.stringMatching(/^Tenant/)]);
  });
});

describe('distributions from elsewhere', () => {
  test('a distribution from another stack becomes a cross-stack reference', () => {
    const app = new App();
    const sites = new Stack(app, 'Sites', { env: ENV });
    const bucket = new s3.Bucket(sites, 'Bucket');
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    new Invalidation(deploys, 'Invalidate', { distribution });
    const template = Template.fromStack(deploys);
    template.hasResourceProperties('Custom::CloudFrontInvalidation', { DistributionId: { 'Fn::ImportValue': Match.stringLikeRegexp('Distribution') } });
    expect(deploys.dependencies).toContain(sites);
  });

  test('a distribution from another stack is named by its export in the guard, even where this stack has one at the same path', () => {
    const app = new App();
    const distributionIn = (stack: Stack) =>
      new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(stack, 'Bucket')) } });
    const other = distributionIn(new Stack(app, 'Other', { env: ENV }));
    const here = new Stack(app, 'Here', { env: ENV });
    // The same construct path as in the other stack, hence the same logical id.
    distributionIn(here);
    new Invalidation(here, 'Invalidate', { distribution: other });
    const [, guard] = only(Template.fromStack(here).findResources('Custom::CloudFrontInvalidationRollbackGuard'));
    expect(guard.Properties.DistributionLogicalId).toBeUndefined();
    expect(guard.Properties.DistributionId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/Distribution/) });
  });
});

describe('validation at synth', () => {
  const make = (invalidation: Partial<InvalidationProps>) => () => siteStack({ invalidation });

  test.each([
    ['no leading slash', ['index.html'], /paths\[0\] "index.html" is not a valid invalidation path: a path must start with '\/'/],
    ['a star before the end', ['/a', '/img/*.png'], /paths\[1\] "\/img\/\*.png" .*'\*' may only be the last character/],
    ['a path over 4000 characters', [`/${'a'.repeat(4000)}`], /paths\[0\] .* at most 4000 characters long once encoded \(this one has 4001\)/],
    ['a path over 4000 characters once encoded', ['/ok', `/${'é'.repeat(700)}`], /paths\[1\] .* at most 4000 characters long once encoded \(this one has 4201\)/],
    ['an empty path', [''], /paths\[0\] "" .* may not be empty/],
    ['a tag without a name', ['#'], /paths\[0\] "#" .* needs a name/],
    ['a tag with a comma', ['#a,b'], /paths\[0\] "#a,b" .* other than ','/],
    ['a tag with a wildcard', ['#tag*'], /paths\[0\] "#tag\*" .* may not contain the wildcard/],
    ['a tag over 256 characters', [`#${'t'.repeat(257)}`], /at most 256 characters long \(this one has 257\)/],
    ['a tag outside ASCII', ['#caf\u00e9'], /ASCII characters 33-126/],
  ])('rejects %s', (_what, paths, message) => {
    expect(make({ paths })).toThrow(message);
  });

  test('rejects an empty path list, naming the prop', () => {
    expect(make({ paths: [] })).toThrow(/Site\/Invalidate: paths is empty/);
  });

  test('rejects a timeout CloudFormation cannot wait for, naming the prop and the value', () => {
    expect(make({ timeout: Duration.minutes(59) })).toThrow(/Site\/Invalidate: timeout is 59 minutes, but must be .* to 58 minutes/);
    expect(make({ timeout: Duration.millis(1500) })).toThrow(/timeout is 1 second 500 millis/);
    expect(make({ timeout: Duration.minutes(58) })).not.toThrow();
  });

  test('accepts cache tags and leaves tokens to the handler', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const prefix = new CfnParameter(stack, 'Prefix');
        new Invalidation(stack, 'Tokens', { distribution, paths: [`/${prefix.valueAsString}/*`, '#product-42'] });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(2);
  });

  test('rejects onChangeOf and onDeployment without arguments', () => {
    expect(() => InvalidationTrigger.onChangeOf()).toThrow(/onChangeOf needs at least one value/);
    expect(() => InvalidationTrigger.onDeployment()).toThrow(/onDeployment needs at least one BucketDeployment/);
  });
});

describe('snapshot', () => {
  test('the resources an Invalidation adds to a site stack', () => {
    const { template } = siteStack();
    const resources = template.toJSON().Resources as Record<string, { Type: string }>;
    const ours = Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith('Invalidate') || id.startsWith('CloudFrontInvalidationProvider')));
    // Asset hashes change with every build of the handler; the shape must not.
    expect(JSON.parse(JSON.stringify(ours).replace(/[0-9a-f]{64}(\.zip)?/g, '<hash>$1'))).toMatchSnapshot();
  });
});
